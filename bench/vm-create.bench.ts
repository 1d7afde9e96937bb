// `npm run bench -- vm-create`: VM creation committed through the real API
// into Postgres: quota check under the tenant's lock, placement over a full
// 64-host cluster snapshot under the cluster's lock, the VM, its decision
// (with the per-host trace) and its task. Prints placements/s and latency as
// the cluster fills; never asserts times.

import { inventoryFor, register } from '../apps/api/src/testing/agent-fixtures';
import { ApiClient } from '../apps/api/src/testing/api-client';
import { percentile, withBenchStack } from './lib/bench-stack';

const HOSTS = 64;
const ROUNDS = [500, 500, 1000];
const CONCURRENCY = 8;

await withBenchStack('vm-create', async ({ api, admin }) => {
  const tenant = await ApiClient.signIn(api.url, 'alice@blue.example', 'blue-admin-1');
  const tenants = await admin.query<{ id: string; name: string }[]>('tenants.list');
  const blue = tenants.find((t) => t.name === 'Blue Corp')?.id;
  await admin.mutate('quotas.set', {
    tenantId: blue,
    quota: {
      maxVms: 100_000,
      maxVcpus: 1_000_000,
      maxMemoryMiB: 2_000_000_000,
      maxStorageBytes: Number.MAX_SAFE_INTEGER,
      maxRunningVms: 100_000,
      maxRunningVcpus: 1_000_000,
      maxRunningMemoryMiB: 2_000_000_000,
    },
  });
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((c) => c.name === 'Production')?.id;
  for (let i = 0; i < HOSTS; i++) {
    const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: production });
    await register(
      api.url,
      token,
      `bench-hv-${String(i).padStart(2, '0')}`,
      inventoryFor(`bench-hv-${i}`, { memoryMiB: 1024 * 1024 }),
    );
  }
  let created = 0;
  for (const count of ROUNDS) {
    const latencies: number[] = [];
    let next = 0;
    let refused = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const i = created + next++;
          const t0 = performance.now();
          const r = await tenant.call('vms.create', 'mutation', {
            name: `bench-vm-${i}`,
            vcpus: 1 + (i % 4),
            memory: { mode: 'static', sizeMiB: 1024 * (1 + (i % 8)) },
            disks: [{ sizeGiB: 20 + (i % 5) * 10 }],
            startAfterCreate: false,
          });
          if (!r.ok) refused += 1;
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = performance.now() - started;
    created += count;
    const sorted = latencies.sort((a, b) => a - b);
    console.log(
      `vms.create, cluster of ${HOSTS} hosts, VMs ${String(created - count).padStart(4)}→${String(created).padEnd(5)} ${((count / elapsed) * 1000).toFixed(0).padStart(5)} placements/s  p50 ${percentile(sorted, 50).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  refused ${refused}`,
    );
  }
  // Tiers: vms.createMany places and commits up to 100 VMs in one transaction.
  for (const [batches, size] of [
    [10, 100],
    [10, 100],
  ] as const) {
    const latencies: number[] = [];
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      const t0 = performance.now();
      const r = await tenant.call('vms.createMany', 'mutation', {
        vm: {
          name: `tier-${created}-${b}`,
          vcpus: 2,
          memory: { mode: 'static', sizeMiB: 4096 },
          disks: [{ sizeGiB: 40 }],
          startAfterCreate: false,
        },
        count: size,
      });
      if (!r.ok) throw new Error(`createMany failed: ${r.message}`);
      latencies.push(performance.now() - t0);
    }
    const elapsed = performance.now() - started;
    const sorted = latencies.sort((a, b) => a - b);
    console.log(
      `vms.createMany ×${size}, VMs ${String(created).padStart(4)}→${String(created + batches * size).padEnd(5)} ${((batches * size * 1000) / elapsed).toFixed(0).padStart(5)} placements/s  p50 ${percentile(sorted, 50).toFixed(0)} ms per batch`,
    );
    created += batches * size;
  }
});
