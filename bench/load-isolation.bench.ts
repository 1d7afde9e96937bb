// `npm run bench -- load-isolation`: one tenant admin runs the heaviest load it
// can (issue 9, class 2) while another tenant's user works in the console and
// a host agent beats; prints what the others see. Never asserts times.
//   heavy:  Blue's admin, --workers parallel loops, each a batched GET of
//           --batch chargeback.costSeries calls over 400 daily buckets
//           (the probe sent 50 per batch, six at a time);
//   other:  Yellow's admin lists VMs every 250 ms (one call in flight);
//   agent:  one registered host beats every second (the monitor calls a host
//           suspect after 3 missed 10 s beats: a beat answered after 30 s).
// The API runs in a process of its own (its event loop is not the generator's).
// Flags: --seconds 30  --workers 6  --batch 50
import { parseArgs } from 'node:util';
import superjson from 'superjson';
import { agentPost, register } from '../apps/api/src/testing/agent-fixtures';
import { ApiClient } from '../apps/api/src/testing/api-client';
import { SYSTEM_ACTOR } from '../packages/core/src/shared/tenant-scope';
import { startApiProcess } from './lib/api-process';
import { percentile, withBenchStack } from './lib/bench-stack';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')),
  options: {
    seconds: { type: 'string', default: '30' },
    workers: { type: 'string', default: '6' },
    batch: { type: 'string', default: '50' },
  },
});
const SECONDS = Number(flags.seconds);
const WORKERS = Number(flags.workers);
const BATCH = Number(flags.batch);
if (!(SECONDS > 0) || !(WORKERS >= 1) || !(BATCH >= 1)) throw new Error('--seconds, --workers, --batch: positive');

const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function summary(name: string, latencies: number[], statuses: Map<string, number>) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const counts = [...statuses].map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(
    `${name.padEnd(34)} ${String(latencies.length).padStart(5)} calls  p50 ${percentile(sorted, 50).toFixed(0).padStart(6)} ms  p95 ${percentile(sorted, 95).toFixed(0).padStart(6)} ms  max ${(sorted.at(-1) ?? 0).toFixed(0).padStart(6)} ms  [${counts}]`,
  );
}

function count(map: Map<string, number>, key: string) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

await withBenchStack('load-isolation', async ({ api, databaseUrl, admin }) => {
  const child = await startApiProcess(databaseUrl);
  try {
    const cluster = await admin.mutate<{ id: string }>('clusters.create', { name: 'bench-agents', maxHosts: 4 });
    const { token } = await api.services.fabric.createToken(SYSTEM_ACTOR, {
      clusterId: cluster.id,
      label: 'bench',
      ttlMinutes: 60,
    });
    const reg = await register(child.url, token, 'bench-host-1');
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
    const host = reg.body as unknown as { hostId: string; credential: string };

    const alice = await ApiClient.signIn(child.url, 'alice@blue.example', 'blue-admin-1');
    const yara = await ApiClient.signIn(child.url, 'yara@yellow.example', 'yellow-admin-1');
    const todayMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const input = {
      period: { from: new Date(todayMs - 399 * DAY_MS).toISOString(), to: new Date(todayMs + DAY_MS).toISOString() },
      bucket: 'day',
    };
    const one = await alice.call('chargeback.costSeries', 'query', input);
    console.log(`one costSeries call (400 daily buckets): ${one.ok ? 'ok' : `${one.status} ${one.message}`}`);
    const batchUrl = `${child.url}/api/trpc/${Array.from({ length: BATCH }, () => 'chargeback.costSeries').join(',')}?batch=1&input=${encodeURIComponent(
      JSON.stringify(Object.fromEntries(Array.from({ length: BATCH }, (_, i) => [i, superjson.serialize(input)]))),
    )}`;
    const headers = { cookie: alice.cookie ?? '', origin: alice.origin };
    let stop = false;

    const heavy = { latencies: [] as number[], statuses: new Map<string, number>(), retryAfter: new Set<string>() };
    const heavyWorkers = Array.from({ length: WORKERS }, async () => {
      while (!stop) {
        const t0 = performance.now();
        const response = await fetch(batchUrl, { headers });
        await response.arrayBuffer();
        heavy.latencies.push(performance.now() - t0);
        count(heavy.statuses, String(response.status));
        const retry = response.headers.get('retry-after');
        if (retry) {
          heavy.retryAfter.add(retry);
          // A well-behaved client waits as told; a hostile one would not, and is refused again at once.
          await sleep(Number(retry) * 1000);
        }
      }
    });

    const other = { latencies: [] as number[], statuses: new Map<string, number>() };
    const otherUser = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const r = await yara.call('vms.list', 'query', { page: 1, pageSize: 25 });
        other.latencies.push(performance.now() - t0);
        count(other.statuses, r.ok ? '200' : String(r.status));
        await sleep(250 - (performance.now() - t0));
      }
    })();

    const beats = { latencies: [] as number[], statuses: new Map<string, number>() };
    let seq = 1;
    const agent = (async () => {
      while (!stop) {
        const t0 = performance.now();
        seq += 1;
        const r = await agentPost(
          child.url,
          `/agent/v1/hosts/${host.hostId}/heartbeat`,
          { seq, agentVersion: 'bench', inventoryHash: '' },
          { credential: host.credential },
        );
        beats.latencies.push(performance.now() - t0);
        count(beats.statuses, String(r.status));
        await sleep(1000 - (performance.now() - t0));
      }
    })();

    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    stop = true;
    await Promise.all([...heavyWorkers, otherUser, agent]);
    const elapsedS = (performance.now() - t0) / 1000;
    console.log(
      `${WORKERS} workers × batches of ${BATCH} chargeback.costSeries (400 days) for ${elapsedS.toFixed(0)} s; API pool 20`,
    );
    summary(`heavy tenant (batches)`, heavy.latencies, heavy.statuses);
    if (heavy.retryAfter.size) console.log(`  Retry-After seen: ${[...heavy.retryAfter].join(', ')} s`);
    summary('other tenant (vms.list)', other.latencies, other.statuses);
    summary('agent heartbeats', beats.latencies, beats.statuses);
  } finally {
    await child.close();
  }
});
