// `npm run bench -- inventory`: the hot paths of fabric inventory, on a fixed workload,
// against the real API over HTTP and an embedded Postgres. Prints figures;
// never asserts times (machines differ).
//   1. agent heartbeats: requests/s and latency through /agent/v1 (auth,
//      replay check, heartbeat write, NOTIFY), with 64 hosts reporting at once;
//   2. the console's hosts table: hosts.list on 4,000 hosts (search, sort, page);
//   3. one host-monitor pass over 4,000 hosts, 400 of them gone silent.

import { agentPost, inventoryFor, register } from '../apps/api/src/testing/agent-fixtures';
import { withSql } from '../apps/api/src/testing/harness';
import { percentile, withBenchStack } from './lib/bench-stack';

function report(name: string, latencies: number[], elapsedMs: number, unit = 'req') {
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(42)} ${String(latencies.length).padStart(6)} ${unit}  ${((latencies.length / elapsedMs) * 1000).toFixed(0).padStart(6)} ${unit}/s  p50 ${percentile(sorted, 50).toFixed(2)} ms  p95 ${percentile(sorted, 95).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms`,
  );
}

async function runConcurrent(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, elapsedMs: performance.now() - started };
}

await withBenchStack('inventory', async ({ api, databaseUrl, admin }) => {
  const big = await admin.mutate<{ id: string }>('clusters.create', { name: 'Bench', maxHosts: 64 });

  // 1. Heartbeats from 64 registered hosts, 32 in flight at a time.
  const hosts: { hostId: string; credential: string; seq: number }[] = [];
  for (let i = 0; i < 64; i++) {
    const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: big.id });
    const r = await register(api.url, token, `bench-${String(i).padStart(2, '0')}`);
    const body = r.body as { hostId: string; credential: string };
    hosts.push({ ...body, seq: 1 });
  }
  const beats = await runConcurrent(5_000, 32, async (i) => {
    const host = hosts[i % hosts.length];
    if (!host) return;
    host.seq += 1;
    const r = await agentPost(
      api.url,
      `/agent/v1/hosts/${host.hostId}/heartbeat`,
      { seq: host.seq, agentVersion: 'bench', inventoryHash: '' },
      { credential: host.credential },
    );
    if (r.status !== 200) throw new Error(`heartbeat failed: ${r.status}`);
  });
  report('agent heartbeat (64 hosts, 32 concurrent)', beats.latencies, beats.elapsedMs);

  const inventories = await runConcurrent(1_000, 16, async (i) => {
    const host = hosts[i % hosts.length];
    if (!host) return;
    host.seq += 1;
    const inv = inventoryFor(`bench-${String(i % hosts.length).padStart(2, '0')}`, {
      memoryMiB: 1024 * (256 + (i % 7)),
    });
    const r = await agentPost(
      api.url,
      `/agent/v1/hosts/${host.hostId}/inventory`,
      { seq: host.seq, agentVersion: 'bench', inventory: inv },
      { method: 'PUT', credential: host.credential },
    );
    if (r.status !== 200) throw new Error(`inventory failed: ${r.status}`);
  });
  report('agent inventory, changed each time', inventories.latencies, inventories.elapsedMs);

  // 2. 4,000 hosts in 63 clusters (the Hyper-V cluster limit is 64 hosts).
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
  report('hosts.list over 4,064 hosts (4 concurrent)', lists.latencies, lists.elapsedMs);
  const overviews = await runConcurrent(200, 4, async () => {
    await admin.query('fabric.overview');
  });
  report('fabric.overview over 4,064 hosts', overviews.latencies, overviews.elapsedMs);

  // 3. A monitor pass that finds ~400 silent hosts and moves them.
  const t0 = performance.now();
  const changes = await api.services.fabric.monitorTick();
  const tickMs = performance.now() - t0;
  console.log(
    `${'host monitor pass (4,064 hosts)'.padEnd(42)} ${String(changes.length).padStart(6)} state changes in ${tickMs.toFixed(0)} ms`,
  );
  const t1 = performance.now();
  const none = await api.services.fabric.monitorTick();
  console.log(
    `${'host monitor pass, nothing to do'.padEnd(42)} ${String(none.length).padStart(6)} state changes in ${(performance.now() - t1).toFixed(1)} ms`,
  );
});
