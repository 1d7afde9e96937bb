// `npm run bench -- inventory`: the hot paths of fabric inventory, on a fixed workload,
// against the real API over HTTP and an embedded Postgres. Prints figures;
// never asserts times (machines differ).
//   1. agent heartbeats as a fleet sends them: N hosts (1,000 and 10,000 by
//      default, registered through the API), each beating every 10 s from a
//      random start with one request in flight, for --seconds, while console
//      users list hosts; sustained beats/s, latency, errors. The API runs in a
//      process of its own (its CPU is its own), the load generator here with
//      keep-alive sockets;
//   2. inventory reports, changed each time;
//   3. the console's hosts table: hosts.list on 4,000 more hosts (search, sort, page);
//   4. one host-monitor pass over all of them, 400 gone silent.
// Flags: --hosts 1000,10000  --seconds 60  --console-readers 2 (each lists hosts twice a second; 0: none)

import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { RunningApi } from '../apps/api/src/server';
import { agentPost, inventoryFor, register } from '../apps/api/src/testing/agent-fixtures';
import { ApiClient } from '../apps/api/src/testing/api-client';
import { withSql } from '../apps/api/src/testing/harness';
import { SYSTEM_ACTOR } from '../packages/core/src/shared/tenant-scope';
import { startApiProcess } from './lib/api-process';
import { percentile, withBenchStack } from './lib/bench-stack';
import { cpuSeconds, postgresCpuSeconds } from './lib/cpu';
import { keepAliveClient } from './lib/keep-alive-client';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')),
  options: {
    hosts: { type: 'string', default: '1000,10000' },
    seconds: { type: 'string', default: '60' },
    'console-readers': { type: 'string', default: '2' },
  },
});
const FLEETS = String(flags.hosts)
  .split(',')
  .map((n) => Number(n.replaceAll('_', '')));
const SECONDS = Number(flags.seconds);
const CONSOLE_READERS = Number(flags['console-readers']);
if (FLEETS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--hosts is a list of positive integers');
if (!(SECONDS > 0)) throw new Error('--seconds must be positive');
if (!Number.isInteger(CONSOLE_READERS) || CONSOLE_READERS < 0) throw new Error('--console-readers is an integer ≥ 0');

/** The agents' interval (the API's default policy); each host beats on its own schedule. */
const HEARTBEAT_INTERVAL_MS = 10_000;
/** Hosts per cluster for the fleet (the Hyper-V limit is 64). */
const HOSTS_PER_CLUSTER = 50;

interface BenchHost {
  name: string;
  hostId: string;
  credential: string;
  seq: number;
}

function report(name: string, latencies: number[], elapsedMs: number, unit = 'req') {
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(46)} ${String(latencies.length).padStart(6)} ${unit}  ${((latencies.length / elapsedMs) * 1000).toFixed(0).padStart(6)} ${unit}/s  p50 ${percentile(sorted, 50).toFixed(2)} ms  p95 ${percentile(sorted, 95).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms`,
  );
}

/**
 * `total` tasks, `concurrency` at a time; worker w runs tasks w, w + concurrency, …, so tasks whose
 * index is equal modulo a multiple of `concurrency` (one host's) never overlap.
 */
async function runConcurrent(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; i < total; i += concurrency) {
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, elapsedMs: performance.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Every host beats at its own start (uniform over one interval) plus whole
 * intervals, with at most one request in flight: a beat that is due while the
 * previous one is still out goes as soon as that one is answered (and counts
 * as lag). Beats due in the window are sent; all are awaited.
 */
async function pacedHeartbeats(apiUrl: string, hosts: BenchHost[], seconds: number, consoleClient: ApiClient | null) {
  const client = keepAliveClient(apiUrl, 512);
  const windowMs = seconds * 1000;
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let maxLagMs = 0;
  let lateBeats = 0;
  let stopConsole = false;
  const consoleLatencies: number[] = [];
  const consoleReaders = consoleClient
    ? Array.from({ length: CONSOLE_READERS }, async (_, r) => {
        const queries = [
          { sort: 'name', dir: 'asc', page: 1, pageSize: 25 },
          { sort: 'lastHeartbeatAt', dir: 'desc', page: 1, pageSize: 50 },
          { search: 'fleet-1', sort: 'name', dir: 'asc', page: 2, pageSize: 25 },
        ];
        for (let i = r; !stopConsole; i++) {
          const t0 = performance.now();
          await consoleClient.query('hosts.list', queries[i % queries.length]);
          consoleLatencies.push(performance.now() - t0);
          await sleep(500 - (performance.now() - t0));
        }
      })
    : [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    hosts.map(async (host) => {
      const startMs = Math.random() * HEARTBEAT_INTERVAL_MS;
      for (let dueMs = startMs; dueMs < windowMs; dueMs += HEARTBEAT_INTERVAL_MS) {
        await sleep(dueMs - (performance.now() - t0));
        const lagMs = performance.now() - t0 - dueMs;
        if (lagMs > 100) lateBeats++;
        maxLagMs = Math.max(maxLagMs, lagMs);
        host.seq += 1;
        const sent = performance.now();
        try {
          const r = await client.post(
            `/agent/v1/hosts/${host.hostId}/heartbeat`,
            { seq: host.seq, agentVersion: 'bench', inventoryHash: '' },
            { authorization: `Bearer ${host.credential}` },
          );
          if (r.status === 200) latencies.push(performance.now() - sent);
          else errors.set(String(r.status), (errors.get(String(r.status)) ?? 0) + 1);
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'network';
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  const generatorCpu = process.cpuUsage(cpu0);
  stopConsole = true;
  await Promise.all(consoleReaders);
  client.close();
  return {
    latencies,
    errors,
    elapsedMs,
    maxLagMs,
    lateBeats,
    consoleLatencies,
    generatorCpuSeconds: (generatorCpu.user + generatorCpu.system) / 1e6,
  };
}

/**
 * Registers `count` hosts through the agent API, 16 clusters at a time; the one-time tokens come
 * from the service directly (the console's way costs a tRPC round trip each and is not measured here).
 */
async function registerFleet(api: RunningApi, admin: ApiClient, first: number, count: number): Promise<BenchHost[]> {
  const hosts: BenchHost[] = [];
  const clusters = Math.ceil(count / HOSTS_PER_CLUSTER);
  let nextCluster = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (nextCluster < clusters) {
        const c = nextCluster++;
        const cluster = await admin.mutate<{ id: string }>('clusters.create', {
          name: `fleet-${first + c * HOSTS_PER_CLUSTER}`,
          maxHosts: HOSTS_PER_CLUSTER,
        });
        for (let h = c * HOSTS_PER_CLUSTER; h < Math.min(count, (c + 1) * HOSTS_PER_CLUSTER); h++) {
          const { token } = await api.services.fabric.createToken(SYSTEM_ACTOR, {
            clusterId: cluster.id,
            label: 'bench',
            ttlMinutes: 60,
          });
          const name = `fleet-${String(first + h).padStart(5, '0')}`;
          const r = await register(api.url, token, name);
          if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
          const body = r.body as { hostId: string; credential: string };
          hosts.push({ name, hostId: body.hostId, credential: body.credential, seq: 1 });
          if (hosts.length % 2_000 === 0) console.log(`  … ${hosts.length.toLocaleString('en-US')} hosts registered`);
        }
      }
    }),
  );
  return hosts;
}

await withBenchStack('inventory', async ({ api, databaseUrl, admin }) => {
  // 1. Fleets of simulated hosts, each pacing its own heartbeats.
  const fleet: BenchHost[] = [];
  const child = await startApiProcess(databaseUrl);
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const consoleClient =
      CONSOLE_READERS > 0 ? await ApiClient.signIn(child.url, 'admin@fabric.local', 'fabric-admin-1') : null;
    for (const size of FLEETS) {
      const r0 = performance.now();
      const added = size - fleet.length;
      if (added > 0) fleet.push(...(await registerFleet(api, admin, fleet.length, added)));
      const registerSeconds = (performance.now() - r0) / 1000;
      const hosts = fleet.slice(0, size);
      const load = os.loadavg()[0]?.toFixed(1);
      const apiCpu0 = cpuSeconds(child.pid);
      const pgCpu0 = await postgresCpuSeconds(sql);
      const run = await pacedHeartbeats(child.url, hosts, SECONDS, consoleClient);
      const apiCpu = cpuSeconds(child.pid) - apiCpu0;
      const pgCpu = (await postgresCpuSeconds(sql)) - pgCpu0;
      const sorted = run.latencies.sort((a, b) => a - b);
      const consoleSorted = run.consoleLatencies.sort((a, b) => a - b);
      const errors = [...run.errors].map(([code, n]) => `${n}× ${code}`).join(', ') || 'none';
      console.log(
        `heartbeats, ${size.toLocaleString('en-US')} hosts every ${HEARTBEAT_INTERVAL_MS / 1000} s for ${SECONDS} s: ${run.latencies.length.toLocaleString('en-US')} ok, ${(run.latencies.length / SECONDS).toFixed(0)} beats/s sustained (asked ${(size / (HEARTBEAT_INTERVAL_MS / 1000)).toFixed(0)}/s), p50 ${percentile(sorted, 50).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, errors: ${errors}`,
      );
      console.log(
        `  API process CPU ${((apiCpu / (run.elapsedMs / 1000)) * 100).toFixed(0)}% of one core (${((apiCpu / Math.max(1, run.latencies.length)) * 1e6).toFixed(0)} µs a beat), Postgres ${((pgCpu / (run.elapsedMs / 1000)) * 100).toFixed(0)}% (${((pgCpu / Math.max(1, run.latencies.length)) * 1e6).toFixed(0)} µs a beat); load generator ${((run.generatorCpuSeconds / (run.elapsedMs / 1000)) * 100).toFixed(0)}%, ${run.lateBeats} beats sent > 100 ms late (max ${run.maxLagMs.toFixed(0)} ms); hosts registered in ${registerSeconds.toFixed(0)} s; load average ${load} at the start` +
          (consoleClient
            ? `; console hosts.list ×${consoleSorted.length} (${CONSOLE_READERS} readers) p50 ${percentile(consoleSorted, 50).toFixed(0)} ms p99 ${percentile(consoleSorted, 99).toFixed(0)} ms`
            : ''),
      );
    }
  } finally {
    await child.close();
    await sql.end();
  }

  // 2. Inventory reports from 64 hosts, 16 at a time (a host's reports go one after another).
  const reporters = fleet.slice(0, 64);
  const inventories = await runConcurrent(1_024, 16, async (i) => {
    const host = reporters[i % reporters.length];
    if (!host) return;
    host.seq += 1;
    const inv = inventoryFor(host.name, { memoryMiB: 1024 * (256 + (i % 7)) });
    const r = await agentPost(
      api.url,
      `/agent/v1/hosts/${host.hostId}/inventory`,
      { seq: host.seq, agentVersion: 'bench', inventory: inv },
      { method: 'PUT', credential: host.credential },
    );
    if (r.status !== 200) throw new Error(`inventory failed: ${r.status}`);
  });
  report('agent inventory, changed each time', inventories.latencies, inventories.elapsedMs);

  let totalHosts = '';
  // 3. 4,000 more hosts in 63 clusters (the Hyper-V cluster limit is 64 hosts).
  await withSql(databaseUrl, async (c) => {
    await c.query(`
      INSERT INTO clusters (id, name, max_hosts, max_vms)
      SELECT gen_random_uuid(), 'scale-' || g, 64, 4000 FROM generate_series(1, 63) g`);
    await c.query(`
      INSERT INTO hosts (id, cluster_id, name, state, cpu_model, cpu_mhz, sockets, cores_per_socket,
                         logical_processors, numa_nodes, memory_mib, agent_version, driver, last_heartbeat_at)
      SELECT gen_random_uuid(), (SELECT id FROM clusters WHERE name = 'scale-' || (1 + g % 63)),
             'scale-host-' || lpad(g::text, 4, '0'),
             (ARRAY['connected','connected','connected','suspect','maintenance'])[1 + g % 5]::"HostState",
             'Xeon', 2900, 2, 16, 64, 2, 524288, 'bench', 'simulated',
             now() - (CASE WHEN g % 10 = 0 THEN interval '10 minutes' ELSE interval '1 second' END)
      FROM generate_series(1, 4000) g`);
    await c.query(`
      INSERT INTO host_storage_pools (id, host_id, name, kind, capacity_bytes, used_bytes)
      SELECT gen_random_uuid(), id, 'local', 'local', 4398046511104, 1099511627776 FROM hosts WHERE name LIKE 'scale-%'`);
    await c.query('ANALYZE');
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM hosts');
    totalHosts = `${(rows[0]?.n ?? 0).toLocaleString('en-US')} hosts`;
  });
  const queries = [
    { sort: 'name', dir: 'asc', page: 1, pageSize: 25 },
    { sort: 'lastHeartbeatAt', dir: 'desc', page: 40, pageSize: 50 },
    { search: 'host-03', sort: 'name', dir: 'asc', page: 1, pageSize: 25 },
    { state: 'suspect', sort: 'memoryMiB', dir: 'desc', page: 2, pageSize: 100 },
  ];
  const lists = await runConcurrent(400, 4, async (i) => {
    await admin.query('hosts.list', queries[i % queries.length]);
  });
  report(`hosts.list over ${totalHosts} (4 concurrent)`, lists.latencies, lists.elapsedMs);
  const overviews = await runConcurrent(200, 4, async () => {
    await admin.query('fabric.overview');
  });
  report(`fabric.overview over ${totalHosts}`, overviews.latencies, overviews.elapsedMs);

  // 4. A monitor pass that finds ~400 silent hosts and moves them.
  const t0 = performance.now();
  const changes = await api.services.fabric.monitorTick();
  const tickMs = performance.now() - t0;
  console.log(
    `${`host monitor pass (${totalHosts})`.padEnd(46)} ${String(changes.length).padStart(6)} state changes in ${tickMs.toFixed(0)} ms`,
  );
  const t1 = performance.now();
  const none = await api.services.fabric.monitorTick();
  console.log(
    `${'host monitor pass, nothing to do'.padEnd(46)} ${String(none.length).padStart(6)} state changes in ${(performance.now() - t1).toFixed(1)} ms`,
  );
});
