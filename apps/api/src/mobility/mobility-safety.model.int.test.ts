import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findRunOverlaps, runsOf } from '../../../agent/src/testing/run-log-overlap';
import { HaKit, ROOMY_QUOTA, tcpProxy } from '../ha/ha-test-kit';
import { eventually } from '../testing/agent-process';
import { ApiClient } from '../testing/api-client';
import { type ApiProcess, spawnApi, testAuthSecret } from '../testing/api-process';
import { createTestDatabase, startTestApi, withSql } from '../testing/harness';
import { type DemoLogin, demoUser, seedAndSignIn } from '../testing/seed';

// Issue 12, safety: a model-based test against the real API process and three real agents. A random
// sequence (fast-check, seeded: FABRIC_SAFETY_SEED replays one) of creates, migrations (to a host or
// "best"), cancels, storage moves, maintenance in and out, an agent killed and restarted on its state
// directory, and the API killed (SIGKILL) and a fresh process started on the same database. After every
// command, and once everything has settled:
//   - every VM has exactly one owner host in the database;
//   - the agents' own run logs show no VM live on two hosts at overlapping times;
//   - no host holds more VM memory than it has, nor runs more migrations or storage moves than its cap (at
//     the instant checked, and at every instant so far from the tasks' queue and end times);
//   - every migration started ends completed, cancelled or failed, with its VM on one host.
// What the model expects of a killed agent: HA is off in this cluster and the agent comes back at once on
// the same state directory, as an agent process restarted on a host whose hypervisor kept running; its
// VMs keep running (the simulated hypervisor's state survives), so at the end every VM runs, on its owner
// and on no other host. A killed agent's open runs are therefore not cut at its death (stricter: they count
// as live while it was down). Hosts are the large profile with 40 GiB, so four 12 GiB VMs on three hosts
// press on capacity (maintenance of two hosts cannot empty both) and all share the SMB pool.

const SEED = Number(process.env.FABRIC_SAFETY_SEED ?? 20261204);
const STEPS = 11;
const HOSTS = ['safe-a', 'safe-b', 'safe-c'] as const;
const POOLS = ['Local', 'ClusterStorage-Volume1', '\\\\sofs01\\vms'] as const;
const MAX_VMS = 4;
const VM_MEMORY_MIB = 12 * 1024;
const MOVE_KINDS = ['mobility.migrate-vm', 'mobility.move-vm-storage'];

type Command =
  | { kind: 'create'; pool: number }
  | { kind: 'migrate'; vm: number; to: number | 'best' }
  | { kind: 'cancel'; which: number }
  | { kind: 'storage'; vm: number; pool: number }
  | { kind: 'maintenance'; host: number }
  | { kind: 'leave'; host: number; bringBack: boolean }
  | { kind: 'kill-agent'; host: number }
  | { kind: 'kill-api' };

const index = (n: number) => fc.integer({ min: 0, max: n - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), pool: index(POOLS.length) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('migrate' as const),
      vm: index(MAX_VMS),
      to: fc.oneof(fc.constant('best' as const), index(HOSTS.length)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), which: index(8) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('storage' as const), vm: index(MAX_VMS), pool: index(POOLS.length) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('maintenance' as const), host: index(HOSTS.length) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('leave' as const), host: index(HOSTS.length), bringBack: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill-agent' as const), host: index(HOSTS.length) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill-api' as const) }) },
);
/**
 * The random commands, each with a pause after it (ms) so commands land mid-way through each other's moves;
 * every run kills the API once and an agent once, at random places among them.
 */
const scenarioArb = fc
  .tuple(
    fc.array(fc.tuple(commandArb, fc.integer({ min: 0, max: 2500 })), { minLength: STEPS, maxLength: STEPS }),
    index(STEPS),
    index(STEPS),
    index(HOSTS.length),
  )
  .map(([steps, apiAt, agentAt, host]) => {
    const out = [...steps];
    out[apiAt] = [{ kind: 'kill-api' }, 0] as [Command, number];
    out[agentAt === apiAt ? (agentAt + 1) % STEPS : agentAt] = [{ kind: 'kill-agent', host }, 0] as [Command, number];
    return out;
  });

const authSecret = testAuthSecret();
const processes: ApiProcess[] = [];
let databaseUrl = '';
let proxy: ReturnType<typeof tcpProxy>;
let proxyUrl = '';
let clusterId = '';
let c: Record<DemoLogin, ApiClient>;
let profileFile = '';
const kit = new HaKit({ apiUrl: () => proxyUrl, c: () => c, clusterId: () => clusterId });

async function api() {
  const started = await spawnApi({
    databaseUrl,
    authSecret,
    executorId: 'safety-api',
    env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_MIGRATION_TIME_SCALE: '0.02' },
  });
  processes.push(started);
  proxy.retarget(Number(new URL(started.url).port));
  return started;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  const setup = await startTestApi({ databaseUrl, monitor: false, env: { BETTER_AUTH_SECRET: authSecret } });
  try {
    const s = await seedAndSignIn(setup);
    const tenants = await s.admin.query<{ id: string; name: string }[]>('tenants.list');
    const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
    await s.admin.mutate('quotas.set', { tenantId: blueId, quota: ROOMY_QUOTA });
    clusterId = (await s.admin.mutate<{ id: string }>('clusters.create', { name: 'Safety' })).id;
  } finally {
    await setup.close();
  }
  // The large profile (SMB share, CSV and local pools; 25 GbE) with 40 GiB of memory: capacity is tight.
  const large = JSON.parse(
    readFileSync(path.join(import.meta.dirname, '../../../agent/profiles/large-320lp-4t.json'), 'utf8'),
  );
  profileFile = path.join(kit.haDir, 'safety-40g.json');
  writeFileSync(profileFile, JSON.stringify({ ...large, memoryMiB: 40 * 1024 }));
  proxy = tcpProxy(0);
  proxyUrl = `http://127.0.0.1:${await proxy.listen()}`;
  await api();
  const signIn = (login: DemoLogin) => ApiClient.signIn(proxyUrl, demoUser(login).email, demoUser(login).password);
  c = { admin: await signIn('admin'), blueAdmin: await signIn('blueAdmin') } as Record<DemoLogin, ApiClient>;
  for (const h of HOSTS) await kit.startAgent(h, { profile: profileFile });
  await kit.waitConnected([...HOSTS], 90_000);
}, 180_000);

afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return;
  for (const [name, agent] of kit.agents)
    console.log(`--- ${name}\n${agent.output().split('\n').slice(-15).join('\n')}`);
  for (const p of processes) console.log(`--- API ${p.url}\n${p.output().split('\n').slice(-30).join('\n')}`);
});

afterAll(async () => {
  await kit.close();
  for (const p of processes) await p.kill('SIGKILL');
  await proxy?.close();
});

const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
  withSql(databaseUrl, async (db) => (await db.query<T>(text, params)).rows);

/** A refusal the model allows (4xx with the reason); anything else (a 500, a dropped line) fails the run. */
function refused(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!/failed: (BAD_REQUEST|CONFLICT|NOT_FOUND|PRECONDITION_FAILED|UNPROCESSABLE_CONTENT) /.test(message)) throw error;
  return message.replace(/^.*failed: /, '').slice(0, 140);
}

/** The hosts' agents heard from since `since` (a host in maintenance stays in maintenance, not connected). */
async function waitUp(names: string[], since: Date) {
  await eventually(
    async () => {
      const rows = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM hosts WHERE name = ANY($1) AND state IN ('connected', 'maintenance')
         AND last_heartbeat_at > $2`,
        [names, since],
      );
      return rows[0]?.n === names.length;
    },
    90_000,
    `${names.join(', ')} to be heard from again`,
  );
}

/** The invariants that hold at every instant. */
async function check(label: string, vms: string[]) {
  const owners = await sql<{ id: string; name: string; host_id: string | null; host: string | null }>(
    `SELECT v.id::text, v.name, v.host_id::text, h.name AS host FROM vms v LEFT JOIN hosts h ON h.id = v.host_id
     WHERE v.id = ANY($1::uuid[])`,
    [vms],
  );
  expect(owners.length, `${label}: every VM still exists`).toBe(vms.length);
  for (const v of owners) expect(v.host, `${label}: ${v.name} has one owner host`).toBeTruthy();

  expect(findRunOverlaps([...kit.dirs.values()].map((dir) => ({ path: dir }))), `${label}: run logs`).toEqual([]);

  const memory = await sql<{ name: string; cap: number; used: number }>(
    `SELECT h.name, (h.memory_mib - h.reserved_memory_mib)::int AS cap, coalesce(sum(v.memory_mib), 0)::int AS used
     FROM hosts h LEFT JOIN vms v ON v.host_id = h.id WHERE h.cluster_id = $1 GROUP BY h.id`,
    [clusterId],
  );
  for (const h of memory) expect(h.used, `${label}: memory of ${h.name}`).toBeLessThanOrEqual(h.cap);

  // Past the queue: the move holds a slot on its hosts (a live migration on both, a storage move on its own).
  const slots = await sql<{ kind: string; host: string; n: number }>(
    `SELECT j.kind, x.host, count(*)::int AS n FROM jobs j
       LEFT JOIN vms v ON v.id::text = j.target_id::text,
       LATERAL (SELECT unnest(CASE WHEN j.kind = 'mobility.migrate-vm'
                  THEN ARRAY[j.result->>'fromHostId', j.result->>'toHostId']
                  ELSE ARRAY[coalesce(j.result->>'hostId', v.host_id::text)] END) AS host) x
     WHERE j.kind = ANY($1) AND j.state = 'running'
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(j.steps) s WHERE s->>'key' = 'queue' AND s->>'state' = 'done')
     GROUP BY 1, 2`,
    [MOVE_KINDS],
  );
  for (const s of slots) expect(s.n, `${label}: ${s.kind} slots on ${s.host}`).toBeLessThanOrEqual(2);
  expect(await capExcesses(), `${label}: moves past their queue at once, per host, over the whole run`).toEqual([]);
}

/**
 * The caps over time, not only at the instants checked: from the tasks' records, each move holds a slot on
 * its hosts from the end of its queue step to the end of its task (still running: until now). A sweep over
 * those intervals finds every instant where a host had more than its cap (2) of one kind at once, so a race
 * between two moves leaving the queue together shows even when it is over before the next check.
 */
async function capExcesses(): Promise<string[]> {
  const rows = await sql<{ id: string; kind: string; hosts: (string | null)[]; from: string | null; until: number }>(
    `SELECT j.id::text, j.kind,
       CASE WHEN j.kind = 'mobility.migrate-vm' THEN ARRAY[j.result->>'fromHostId', j.result->>'toHostId']
            ELSE ARRAY[coalesce(j.result->>'hostId', v.host_id::text)] END AS hosts,
       (SELECT s->>'finishedAt' FROM jsonb_array_elements(j.steps) s WHERE s->>'key' = 'queue' AND s->>'state' = 'done')
         AS "from",
       (extract(epoch FROM coalesce(j.finished_at, now())) * 1000)::float8 AS until
     FROM jobs j LEFT JOIN vms v ON v.id::text = j.target_id::text
     WHERE j.kind = ANY($1)`,
    [MOVE_KINDS],
  );
  const events: { key: string; at: number; delta: 1 | -1; id: string }[] = [];
  for (const r of rows) {
    if (!r.from) continue; // never left its queue
    for (const host of new Set(r.hosts)) {
      if (!host) continue;
      const key = `${r.kind} on ${host}`;
      events.push({ key, at: Date.parse(r.from), delta: 1, id: r.id });
      events.push({ key, at: r.until, delta: -1, id: r.id });
    }
  }
  // At one instant, ends before starts: a slot freed and taken in the same millisecond is not two at once.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const holding = new Map<string, Set<string>>();
  const excesses: string[] = [];
  for (const e of events) {
    const ids = holding.get(e.key) ?? new Set<string>();
    holding.set(e.key, ids);
    if (e.delta < 0) ids.delete(e.id);
    else {
      ids.add(e.id);
      if (ids.size > 2) {
        excesses.push(
          `${e.key} at ${new Date(e.at).toISOString()}: ${[...ids].map((id) => id.slice(0, 8)).join(', ')}`,
        );
      }
    }
  }
  return excesses;
}

describe('mobility safety model (issue 12)', () => {
  it('random creates, moves, cancels, maintenance and kills keep every VM on one host, once', async () => {
    const [scenario] = fc.sample(scenarioArb, { seed: SEED, numRuns: 1 }) as [[Command, number][]];
    // Three VMs first (the shared SMB pool, a local pool, the CSV), then the random commands.
    const commands: [Command, number][] = [
      [{ kind: 'create', pool: 2 }, 0],
      [{ kind: 'create', pool: 0 }, 0],
      [{ kind: 'create', pool: 1 }, 0],
      ...scenario,
    ];
    console.log(`mobility safety: seed ${SEED} (replay with FABRIC_SAFETY_SEED=${SEED})`);
    const hostIds = await Promise.all(HOSTS.map((h) => kit.hostId(h)));
    const vms: string[] = [];
    const migrations: string[] = [];
    const storageMoves: string[] = [];
    const log: string[] = [];

    for (const [step, [command, pauseMs]] of commands.entries()) {
      let outcome = 'ok';
      try {
        switch (command.kind) {
          case 'create': {
            if (vms.length >= MAX_VMS) {
              outcome = 'skipped (enough VMs)';
              break;
            }
            const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
              name: `safe-${vms.length + 1}`,
              vcpus: 1,
              memory: { mode: 'static', sizeMiB: VM_MEMORY_MIB },
              disks: [{ sizeGiB: 10, pool: POOLS[command.pool] }],
              startAfterCreate: true,
            });
            vms.push(created.vm.id);
            await kit.waitRunning([created.vm.id], 120_000);
            break;
          }
          case 'migrate': {
            const vmId = vms[command.vm % Math.max(1, vms.length)];
            if (!vmId) {
              outcome = 'skipped (no VM)';
              break;
            }
            const to = command.to === 'best' ? 'best' : (hostIds[command.to] as string);
            const { taskId } = await c.admin.mutate<{ taskId: string }>('mobility.migrate', { vmId, to });
            migrations.push(taskId);
            outcome = `task ${taskId.slice(0, 8)}`;
            break;
          }
          case 'cancel': {
            const taskId = migrations[migrations.length - 1 - (command.which % Math.max(1, migrations.length))];
            if (!taskId) {
              outcome = 'skipped (no migration)';
              break;
            }
            await c.admin.mutate('mobility.cancel', { taskId });
            outcome = `cancel ${taskId.slice(0, 8)}`;
            break;
          }
          case 'storage': {
            const vmId = vms[command.vm % Math.max(1, vms.length)];
            if (!vmId) {
              outcome = 'skipped (no VM)';
              break;
            }
            const { taskId } = await c.admin.mutate<{ taskId: string }>('mobility.moveStorage', {
              vmId,
              toPool: POOLS[command.pool],
            });
            storageMoves.push(taskId);
            outcome = `task ${taskId.slice(0, 8)}`;
            break;
          }
          case 'maintenance': {
            const r = await c.admin.mutate<{ taskIds: string[] }>('mobility.evacuate', {
              hostId: hostIds[command.host],
            });
            migrations.push(...r.taskIds);
            outcome = `${r.taskIds.length} moves`;
            break;
          }
          case 'leave': {
            const r = await c.admin.mutate<{ state: string; taskId: string | null }>('mobility.leaveMaintenance', {
              hostId: hostIds[command.host],
              bringBack: command.bringBack,
            });
            outcome = `${r.state}${r.taskId ? ` bring-back ${r.taskId.slice(0, 8)}` : ''}`;
            break;
          }
          case 'kill-agent': {
            const name = HOSTS[command.host] as string;
            await kit.agents.get(name)?.kill('SIGKILL');
            const since = new Date();
            await kit.startAgent(name, { profile: profileFile });
            await waitUp([name], since);
            break;
          }
          case 'kill-api': {
            await (processes.at(-1) as ApiProcess).kill('SIGKILL');
            const since = new Date();
            await api();
            await waitUp([...HOSTS], since);
            break;
          }
        }
      } catch (error) {
        outcome = `refused: ${refused(error)}`;
      }
      const line = `${step + 1}. ${JSON.stringify(command)} -> ${outcome}`;
      log.push(line);
      console.log(`mobility safety: ${line}`);
      await check(`after step ${line}`, vms);
      await new Promise((r) => setTimeout(r, pauseMs));
    }

    // Settled: no move or maintenance task queued or running.
    await eventually(
      async () => {
        const active = await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs WHERE kind LIKE 'mobility.%' AND state IN ('queued', 'running')`,
        );
        await check('while settling', vms);
        return active[0]?.n === 0;
      },
      240_000,
      'every move to end',
    );
    await check('settled', vms);
    const ended = await sql<{ id: string; state: string; outcome: string | null; error: string | null }>(
      `SELECT id::text, state, result->>'outcome' AS outcome, error_message AS error FROM jobs
       WHERE kind = 'mobility.migrate-vm'`,
    );
    for (const id of migrations) {
      const job = ended.find((j) => j.id === id);
      expect(job?.state, `migration ${id}`).toMatch(/^(succeeded|failed|cancelled)$/);
      expect(job?.outcome, `migration ${id} outcome`).toMatch(/^(completed|cancelled|failed)$/);
    }
    // Every VM runs, on its owner host and on no other (the run logs, as the hosts see it).
    await kit.waitRunning(vms, 120_000);
    const owners = await sql<{ id: string; host: string }>(
      `SELECT v.id::text, h.name AS host FROM vms v JOIN hosts h ON h.id = v.host_id WHERE v.id = ANY($1::uuid[])`,
      [vms],
    );
    const liveHosts = () =>
      owners.map((v) => ({
        vm: v.id,
        owner: v.host,
        liveOn: HOSTS.filter((h) =>
          runsOf({ path: kit.dirs.get(h) as string }).some((r) => r.vmId === v.id && r.to === null),
        ),
      }));
    await eventually(
      async () => liveHosts().every((v) => v.liveOn.length === 1 && v.liveOn[0] === v.owner),
      60_000,
      'each VM to run only on its owner host',
    ).catch(() => undefined);
    expect(liveHosts(), 'each VM live on its owner host only (run logs)').toEqual(
      owners.map((v) => ({ vm: v.id, owner: v.host, liveOn: [v.host] })),
    );
    expect(findRunOverlaps([...kit.dirs.values()].map((dir) => ({ path: dir })))).toEqual([]);
    console.log(
      `mobility safety: ${migrations.length} migrations (${ended.map((j) => `${j.outcome}${j.error ? `: ${j.error.slice(0, 160)}` : ''}`).join('; ')}), ${storageMoves.length} storage moves`,
    );
  }, 600_000);
});
