// `npm run bench -- ha`: high availability's recovery planned against the core placement engine, in
// process, with simulated agents (real agents for 64 hosts are too heavy for a 2-core machine): a
// 64-host cluster with 4,000 VMs; one host with about 60 VMs fails, then 8 hosts at once. Prints the
// time until every HA VM runs again (p50 / p99 per VM) under the default settings, the planning time
// of each restart round, and the control plane's work per event. Never asserts (machines differ).
//
// The timeline is the one recover-host.ts follows: the lease (fencing timeout, default 30 s) from the
// last heartbeat, then rounds every `--poll-ms` placing VMs by priority with at most
// `--concurrency` restarts in flight per target host, each restart taking `--start-ms` on its host
// (create + start of a simulated VM). Flags: --hosts N --vms N --fencing-ms N --poll-ms N
// --start-ms N --concurrency N
import { parseArgs } from 'node:util';
import { PlacementSession } from '../packages/core/src/placement/place';
import { seededRandom } from '../packages/core/src/placement/seeded-order';
import type {
  ClusterSnapshot,
  HaPriority,
  HostSnapshot,
  PlacementRequest,
} from '../packages/core/src/placement/snapshot';
import { aCluster, aRequest, hosts as makeHosts } from '../packages/core/src/placement/testing/builders';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')),
  options: {
    hosts: { type: 'string', default: '64' },
    vms: { type: 'string', default: '4000' },
    'fencing-ms': { type: 'string', default: '30000' },
    'poll-ms': { type: 'string', default: '1000' },
    'start-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '4' },
  },
  strict: false,
});
const HOSTS = Number(flags.hosts);
const VMS = Number(flags.vms);
const FENCING_MS = Number(flags['fencing-ms']);
const POLL_MS = Number(flags['poll-ms']);
const START_MS = Number(flags['start-ms']);
const CONCURRENCY = Number(flags.concurrency);
const RANK: Record<HaPriority, number> = { high: 0, medium: 1, low: 2, off: 3 };

const random = seededRandom(42);
const priorities: HaPriority[] = ['high', 'medium', 'medium', 'low', 'off'];
const requests: PlacementRequest[] = Array.from({ length: VMS }, (_, i) =>
  aRequest({
    vmId: `vm-${i}`,
    name: `vm-${String(i).padStart(4, '0')}`,
    vcpus: 1 + Math.floor(random() * 4),
    memoryMiB: 1024 * (1 + Math.floor(random() * 6)),
    haPriority: priorities[Math.floor(random() * priorities.length)] as HaPriority,
  }),
);

// Place the 4,000 VMs.
const base = aCluster(makeHosts(HOSTS, { memoryMiB: 512 * 1024, logicalProcessors: 64 }), { maxVms: VMS + 1000 });
const where = new Map<string, string>();
{
  const session = new PlacementSession(base, { seed: 1, trace: 'summary', candidateLimit: 8 });
  for (const r of requests) {
    const d = session.place(r);
    if (d.hostId) {
      session.commit(r, d.hostId);
      where.set(r.vmId as string, d.hostId);
    }
  }
}

/** The cluster as placed, with `failed` hosts failed. */
function snapshot(failed: Set<string>): ClusterSnapshot {
  const hosts: HostSnapshot[] = base.hosts.map((h) => {
    const mine = requests.filter((r) => where.get(r.vmId as string) === h.id);
    return {
      ...h,
      state: failed.has(h.id) ? 'failed' : 'connected',
      allocated: {
        vcpus: mine.reduce((s, r) => s + r.vcpus, 0),
        memoryMiB: mine.reduce((s, r) => s + r.memoryMiB, 0),
        vmCount: mine.length,
      },
    };
  });
  return { ...base, hosts, vmCount: where.size };
}

function percentile(sorted: number[], p: number) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function recover(label: string, failed: string[]) {
  const failedSet = new Set(failed);
  const toRestart = requests
    .filter((r) => failedSet.has(where.get(r.vmId as string) as string) && r.haPriority !== 'off')
    .sort((a, b) => RANK[a.haPriority] - RANK[b.haPriority] || (a.name < b.name ? -1 : 1));
  const notRestarted = requests.filter(
    (r) => failedSet.has(where.get(r.vmId as string) as string) && r.haPriority === 'off',
  ).length;
  const cluster = snapshot(failedSet);
  const session = new PlacementSession(cluster, { seed: 1, trace: 'summary', candidateLimit: 8 });
  const inFlight = new Map<string, number[]>(); // host -> finish times of restarts in flight
  const rto: number[] = [];
  const planningMs: number[] = [];
  let pending = toRestart;
  let placements = 0;
  let rounds = 0;
  let now = FENCING_MS; // restarts begin once the lease ran out
  let unplaced = 0;
  while (pending.length && rounds < 10_000) {
    rounds++;
    const next: PlacementRequest[] = [];
    const t0 = performance.now();
    for (const r of pending) {
      const d = session.place(r);
      placements++;
      if (!d.hostId) {
        unplaced++;
        continue;
      }
      const running = (inFlight.get(d.hostId) ?? []).filter((t) => t > now);
      if (running.length >= CONCURRENCY) {
        next.push(r);
        continue;
      }
      session.commit(r, d.hostId);
      running.push(now + START_MS);
      inFlight.set(d.hostId, running);
      rto.push(now + START_MS + POLL_MS / 2); // seen running by the next round (half a poll on average)
    }
    planningMs.push(performance.now() - t0);
    pending = next;
    now += POLL_MS;
  }
  rto.sort((a, b) => a - b);
  planningMs.sort((a, b) => a - b);
  const totalPlanning = planningMs.reduce((s, x) => s + x, 0);
  console.log(
    `${label}: ${failed.length} host(s), ${toRestart.length} HA VMs to restart (${notRestarted} with no automatic restart), ` +
      `${unplaced} could not be placed`,
  );
  console.log(
    `  RTO per VM (last heartbeat -> running elsewhere): p50 ${(percentile(rto, 50) / 1000).toFixed(1)} s, ` +
      `p99 ${(percentile(rto, 99) / 1000).toFixed(1)} s, max ${((rto.at(-1) ?? 0) / 1000).toFixed(1)} s ` +
      `(fencing ${FENCING_MS / 1000} s + rounds every ${POLL_MS} ms, ${CONCURRENCY} restarts in flight per host, ${START_MS} ms per start)`,
  );
  console.log(
    `  planning: ${rounds} round(s), ${totalPlanning.toFixed(1)} ms in all, worst round ${(planningMs.at(-1) ?? 0).toFixed(1)} ms, ` +
      `${placements} placement decisions`,
  );
  console.log(
    `  control-plane work per event: ${toRestart.length} ownership compare-and-sets, ${2 * toRestart.length} agent tasks ` +
      `(create + start), ${rounds} restart-round steps + fencing checks (one per poll until the lease ran out: ${Math.ceil(FENCING_MS / POLL_MS)}), ` +
      `${toRestart.length + notRestarted} restart rows`,
  );
}

const counts = new Map<string, number>();
for (const host of where.values()) counts.set(host, (counts.get(host) ?? 0) + 1);
const byCount = [...counts.entries()].sort((a, b) => Math.abs(a[1] - 60) - Math.abs(b[1] - 60));
console.log(`cluster: ${HOSTS} hosts, ${where.size} of ${VMS} VMs placed (in-process placement, simulated agents)`);
recover(`one host fails (${byCount[0]?.[1]} VMs on it)`, [byCount[0]?.[0] as string]);
recover(
  '8 hosts fail at once',
  byCount.slice(0, 8).map(([h]) => h),
);
console.log('peers, published: Proxmox HA ≈ 120 s (watchdog self-fencing), Harvester 300 s, vSphere HA 30–60 s');
