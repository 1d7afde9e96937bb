// `npm run bench -- ingest`: metering samples through the real agent endpoint
// (HTTP, auth, validation, one unnest INSERT per batch, rollup bookkeeping)
// beside a binary COPY of the same rows into the same tables (and into an
// unindexed copy), the database's ceiling, in the same run.
// 10,000 hosts × 40 VMs every 10 s is 40,000 samples/s: the target, also run
// in its own shape (40-sample batches, 1,000 a second) for a while. The API
// runs in a process of its own so its peak memory (VmHWM) is its own, not the
// load generator's. Prints figures; never asserts.

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { agentPost, register } from '../apps/api/src/testing/agent-fixtures';
import { startApiProcess } from './lib/api-process';
import { percentile, withBenchStack } from './lib/bench-stack';
import { binaryCopyChunks, encodeRow } from './lib/binary-copy';
import { cpuSeconds, postgresCpuSeconds } from './lib/cpu';

const HOSTS = 50;
const VMS_PER_HOST = 40;
const BATCH = 2_000; // one host-minute… of 50 VMs; here: 50 intervals of 40 VMs
const BATCHES = 100; // 200,000 samples
const IN_FLIGHT = 4;
// The target's shape: 10,000 hosts report 40 VMs every 10 s, i.e. 1,000 batches of 40 a second.
const SHAPE_BATCH = 40;
const SHAPE_PER_SECOND = 1_000;
const SHAPE_SECONDS = 20;
// 1,000 registered hosts (in 20 clusters of 50) each post once a second, in order, as an agent does:
// the same 1,000 batches a second as 10,000 hosts every 10 s.
const SHAPE_HOSTS = 1_000;
const HOSTS_PER_CLUSTER = 50;

/** When the bench's hosts registered and its VMs were created, before every sample it sends. */
const HISTORY_START = '2020-01-01T00:00:00Z';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

try {
  await withBenchStack('ingest', async ({ api, databaseUrl, admin }) => {
    await api.services.metering.housekeeping();
    const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
    const production = clusters.find((c) => c.name === 'Production')?.id;
    const hosts: { hostId: string; credential: string; vmIds: string[]; seq: number }[] = [];
    const sql = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    sql.on('error', () => {});
    const tenant = (await sql.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'Blue Corp'`)).rows[0]?.id;
    for (let h = 0; h < HOSTS; h++) {
      const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: production });
      const r = (await register(api.url, token, `ingest-${h}`)).body as { hostId: string; credential: string };
      const vmIds = Array.from({ length: VMS_PER_HOST }, () => randomUUID());
      // VMs are set up directly: this bench measures ingest, not VM creation.
      await sql.query(
        `INSERT INTO vms (id, tenant_id, name, state, cluster_id, host_id, vcpus, memory_mib, minimum_memory_mib,
         maximum_memory_mib, storage_bytes, updated_at, created_at)
       SELECT v, $1, 'ingest-' || $2 || '-' || i, 'running', $3, $4, 2, 4096, 4096, 4096, 0, now(), '${HISTORY_START}'
       FROM unnest($5::uuid[]) WITH ORDINALITY AS t(v, i)`,
        [tenant, h, production, r.hostId, vmIds],
      );
      hosts.push({ ...r, vmIds, seq: 1 });
    }
    // The paced run's hosts: registered through the API, 8 at a time; their VMs set up directly.
    const shapeHosts: typeof hosts = [];
    for (let c = 0; c < SHAPE_HOSTS / HOSTS_PER_CLUSTER; c++) {
      const cluster = await admin.mutate<{ id: string }>('clusters.create', {
        name: `ingest-shape-${c}`,
        maxHosts: HOSTS_PER_CLUSTER,
      });
      await Promise.all(
        Array.from({ length: 8 }, async (_, lane) => {
          for (let h = lane; h < HOSTS_PER_CLUSTER; h += 8) {
            const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster.id });
            const r = (await register(api.url, token, `shape-${c}-${h}`)).body as {
              hostId: string;
              credential: string;
            };
            shapeHosts.push({ ...r, vmIds: Array.from({ length: SHAPE_BATCH }, () => randomUUID()), seq: 1 });
          }
        }),
      );
    }
    await sql.query(
      `INSERT INTO vms (id, tenant_id, name, state, host_id, vcpus, memory_mib, minimum_memory_mib, maximum_memory_mib,
         storage_bytes, updated_at, created_at)
       SELECT v, $1, 'shape-' || v, 'running', h, 2, 4096, 4096, 4096, 0, now(), '${HISTORY_START}'
       FROM unnest($2::uuid[], $3::uuid[]) AS t(v, h)`,
      [tenant, shapeHosts.flatMap((h) => h.vmIds), shapeHosts.flatMap((h) => h.vmIds.map(() => h.hostId))],
    );

    // The samples are of November 2026: the hosts and VMs must have existed then (the API refuses samples from
    // before a host registered or a VM was created).
    await sql.query('UPDATE hosts SET registered_at = $1', [HISTORY_START]);

    // Samples go to the API in its own process (same database); this process only generates load.
    const child = await startApiProcess(databaseUrl);
    const startupRss = child.peakRssBytes();
    const start = Date.UTC(2026, 10, 1);
    const batchSamples = (b: number) => {
      const host = hosts[b % HOSTS];
      if (!host) throw new Error('no host');
      const round = Math.floor(b / HOSTS);
      return Array.from({ length: BATCH }, (_, i) => {
        const interval = round * (BATCH / VMS_PER_HOST) + Math.floor(i / VMS_PER_HOST);
        return {
          vmId: host.vmIds[i % VMS_PER_HOST] ?? '',
          at: new Date(start + (interval + 1) * 10_000).toISOString(),
          intervalSeconds: 10,
          cpuAvgMhz: 500 + (i % 100) * 13.5,
          memoryAvgMiB: 3000.5,
          memoryMinMiB: 2048,
          memoryMaxMiB: 4096,
          diskAllocatedGiB: 60,
          diskReadBytes: 1_000 * i,
          diskWriteBytes: 2_000 * i,
          networkInInternetBytes: 10 * i,
          networkOutInternetBytes: 20 * i,
          networkInDatacenterBytes: 30 * i,
          networkOutDatacenterBytes: 40 * i,
        };
      });
    };

    // 1. Through the API.
    const latencies: number[] = [];
    let next = 0;
    let stored = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < BATCHES) {
          const b = next++;
          const host = hosts[b % HOSTS];
          if (!host) return;
          const body = { seq: ++host.seq, batch: host.seq, samples: batchSamples(b) };
          const t = performance.now();
          const r = await agentPost(child.url, `/agent/v1/hosts/${host.hostId}/samples`, body, {
            credential: host.credential,
          });
          latencies.push(performance.now() - t);
          if (r.status !== 200) throw new Error(`ingest failed: ${r.status} ${JSON.stringify(r.body)}`);
          stored += Number(r.body.stored);
        }
      }),
    );
    const apiSeconds = (performance.now() - t0) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    const apiRate = stored / apiSeconds;

    const burstPeakRss = child.peakRssBytes();

    // 2. The target's shape, paced: 1,000 batches of 40 samples a second (10,000 hosts × 40 VMs every 10 s).
    // Each host sends its batches one after another (a resent or reordered sequence number is refused).
    const shapeStart = Date.UTC(2026, 10, 3);
    const shapeLatencies: number[] = [];
    let shapeStored = 0;
    let shapeRetries = 0;
    let shapeBusy = 0;
    let maxLagMs = 0;
    const cpu0 = { api: cpuSeconds(child.pid), pg: await postgresCpuSeconds(sql), bench: process.cpuUsage() };
    const s0 = performance.now();
    const perHost = (SHAPE_PER_SECOND * SHAPE_SECONDS) / SHAPE_HOSTS;
    // Built once: the load generator shares the 2 cores with the API and Postgres, and building 2,000 samples
    // per 40-sample batch made it, not the API, the bottleneck.
    const shapeTemplate = batchSamples(0).slice(0, SHAPE_BATCH);
    await Promise.all(
      shapeHosts.map(async (host, h) => {
        for (let round = 0; round < perHost; round++) {
          // Hosts are spread evenly over each second.
          const dueMs = round * ((1000 * SHAPE_HOSTS) / SHAPE_PER_SECOND) + (h * 1000) / SHAPE_PER_SECOND;
          const waitMs = dueMs - (performance.now() - s0);
          if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
          maxLagMs = Math.max(maxLagMs, performance.now() - s0 - dueMs);
          const at = new Date(shapeStart + (round + 1) * 10_000).toISOString();
          const samples = shapeTemplate.map((sample, i) => ({ ...sample, vmId: host.vmIds[i] ?? '', at }));
          const t = performance.now();
          let r: Awaited<ReturnType<typeof agentPost>> | undefined;
          // A connection reset under load is retried with the next sequence number, as an agent does (samples are
          // stored once, so a batch that did arrive changes nothing the second time); each retry is counted.
          // A 503 (the API's ingest queue is full) is answered as the agent does: keep the batch, wait the
          // Retry-After (2 s), send it again.
          for (let attempt = 0; r === undefined; attempt++) {
            const body = { seq: ++host.seq, batch: host.seq, samples };
            try {
              r = await agentPost(child.url, `/agent/v1/hosts/${host.hostId}/samples`, body, {
                credential: host.credential,
              });
            } catch (error) {
              if (attempt >= 3) throw error;
              shapeRetries++;
            }
            if (r?.status === 503) {
              shapeBusy++;
              r = undefined;
              attempt = -1;
              await new Promise((resolve) => setTimeout(resolve, 2_000));
            }
          }
          shapeLatencies.push(performance.now() - t);
          if (r.status !== 200) throw new Error(`ingest failed: ${r.status} ${JSON.stringify(r.body)}`);
          shapeStored += Number(r.body.stored);
        }
      }),
    );
    const shapeSeconds = (performance.now() - s0) / 1000;
    const percentOfCore = (cpu: number) => `${((cpu / shapeSeconds) * 100).toFixed(0)}%`;
    const bench = process.cpuUsage(cpu0.bench);
    const shapeCpu = `CPU over the paced run, % of one core (the machine has ${os.cpus().length}): API ${percentOfCore(cpuSeconds(child.pid) - cpu0.api)}, Postgres ${percentOfCore((await postgresCpuSeconds(sql)) - cpu0.pg)}, load generator ${percentOfCore((bench.user + bench.system) / 1e6)}; load average ${os.loadavg()[0]?.toFixed(1)}`;
    const shapeSorted = shapeLatencies.sort((a, b) => a - b);
    const apiPeakRss = child.peakRssBytes();
    await child.close();

    // 3. The database's ceiling: the same rows by binary COPY (encoded beforehand, sent in 1 MiB chunks), into
    // vm_samples itself (its day partitions and primary key; fresh VM ids, since the API's run holds the
    // originals) and into an unindexed, unpartitioned copy of it.
    const copyRows = (vmIds: Map<string, string>) =>
      Array.from({ length: BATCHES }, (_, b) => {
        const host = hosts[b % HOSTS];
        return batchSamples(b).map((s) =>
          encodeRow([
            { type: 'uuid', value: vmIds.get(s.vmId) ?? s.vmId },
            { type: 'uuid', value: tenant ?? '' },
            { type: 'uuid', value: host?.hostId ?? '' },
            { type: 'timestamptz', value: s.at },
            { type: 'int4', value: s.intervalSeconds },
            { type: 'numeric', value: s.cpuAvgMhz },
            { type: 'numeric', value: s.memoryAvgMiB },
            { type: 'numeric', value: s.memoryMinMiB },
            { type: 'numeric', value: s.memoryMaxMiB },
            { type: 'numeric', value: s.diskAllocatedGiB },
            { type: 'int8', value: s.diskReadBytes },
            { type: 'int8', value: s.diskWriteBytes },
            { type: 'int8', value: s.networkInInternetBytes },
            { type: 'int8', value: s.networkOutInternetBytes },
            { type: 'int8', value: s.networkInDatacenterBytes },
            { type: 'int8', value: s.networkOutDatacenterBytes },
          ]),
        );
      }).flat();
    const freshIds = new Map(hosts.flatMap((h) => h.vmIds.map((id) => [id, randomUUID()] as const)));
    const binaryCopy = async (table: string, rows: Buffer[]) => {
      const client = await sql.connect();
      try {
        const t = performance.now();
        await pipeline(
          Readable.from(binaryCopyChunks(rows)),
          client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT binary)`)),
        );
        return rows.length / ((performance.now() - t) / 1000);
      } finally {
        client.release();
      }
    };
    await sql.query('CREATE TABLE copy_target (LIKE vm_samples)');
    const copyIntoSamples = await binaryCopy('vm_samples', copyRows(freshIds));
    const copyUnindexed = await binaryCopy('copy_target', copyRows(new Map()));
    const copied = BATCHES * BATCH;

    // 4. Rollup of what was ingested (≈ 5.5 hours of samples, and the paced run's).
    const r0 = performance.now();
    const { rolledUp } = await api.services.metering.housekeeping();
    const rollupMs = performance.now() - r0;

    console.log(
      `samples through the API   ${stored.toLocaleString('en-US').padStart(9)} in ${apiSeconds.toFixed(2)} s  ${apiRate.toFixed(0).padStart(7)} samples/s  p99 batch ${p99.toFixed(0)} ms (${BATCH} per batch, ${IN_FLIGHT} in flight)`,
    );
    console.log(
      `binary COPY, same rows     ${copied.toLocaleString('en-US').padStart(9)} into vm_samples (partitions, primary key) ${copyIntoSamples.toFixed(0).padStart(7)} rows/s, ratio API / COPY ${(apiRate / copyIntoSamples).toFixed(2)}; into an unindexed copy ${copyUnindexed.toFixed(0)} rows/s`,
    );
    console.log(
      `hourly rollup              ${String(rolledUp).padStart(9)} hours in ${rollupMs.toFixed(0)} ms (${(stored / Math.max(1, rolledUp)).toFixed(0)} samples per hour)`,
    );
    console.log(
      `target shape, paced        ${shapeStored.toLocaleString('en-US').padStart(9)} in ${shapeSeconds.toFixed(2)} s  ${(shapeStored / shapeSeconds).toFixed(0).padStart(7)} samples/s  (asked ${(SHAPE_BATCH * SHAPE_PER_SECOND).toLocaleString('en-US')}/s: ${SHAPE_PER_SECOND} batches of ${SHAPE_BATCH} a second for ${SHAPE_SECONDS} s, from ${SHAPE_HOSTS} hosts) p50 ${percentile(shapeSorted, 50).toFixed(0)} ms p99 ${percentile(shapeSorted, 99).toFixed(0)} ms, max lag behind schedule ${maxLagMs.toFixed(0)} ms, ${shapeRetries} connection resets retried, ${shapeBusy} batches told 503 busy and resent after 2 s`,
    );
    console.log(`  ${shapeCpu}`);
    console.log(
      `peak memory of the API process (VmHWM, pid ${child.pid}): ${mib(apiPeakRss)} (target < 256 MiB; ${mib(startupRss)} after start-up, ${mib(burstPeakRss)} after the 2,000-sample batches, the rest during the paced run)`,
    );
    console.log(`peak RSS of the bench process (load generator, idle in-process API): ${mib(peakRss)}`);
    await sql.end();
  });
} finally {
  clearInterval(sampler);
}
