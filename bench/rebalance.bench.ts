// `npm run bench -- rebalance`: the rebalancer's planning time at the whitepaper's
// cluster limit (64 hosts, 4,000 VMs), for the goals 'balance' (a quarter of the
// hosts run hot) and 'consolidate' (a lightly loaded cluster), at the default cap
// of 10 moves per round and at 100. Each figure is the median of --runs runs
// (default 5) of planRebalance, which includes building its placement session
// and load book from the snapshot. Prints, never asserts.
// Flags: --hosts 64 --vms 4000 --runs 5 --seed 1
import { cpus, loadavg } from 'node:os';
import { PlacementSession } from '../packages/core/src/placement/place';
import { planRebalance, type RebalancePlan, type RebalanceVm } from '../packages/core/src/placement/rebalance';
import {
  DEFAULT_REBALANCE_SETTINGS,
  type RebalanceSettings,
} from '../packages/core/src/placement/rebalance-settings.schema';
import { seededRandom } from '../packages/core/src/placement/seeded-order';
import type { PlacementRequest } from '../packages/core/src/placement/snapshot';
import { aCluster, aHost } from '../packages/core/src/placement/testing/builders';
import { GIB } from '../packages/core/src/shared/units';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const HOSTS = Number(flag('hosts', '64'));
const VMS = Number(flag('vms', '4000'));
const RUNS = Number(flag('runs', '5'));
const SEED = Number(flag('seed', '1'));
const HOST_MHZ = 2600;

/** 64-LP, 512 GiB hosts; VMs of 1–4 vCPUs and 2–12 GiB placed round-robin; measured load from `busy(host, rnd)`. */
function cluster(busy: (hostIndex: number, rnd: () => number) => number) {
  const rnd = seededRandom(SEED);
  const hostIds = Array.from({ length: HOSTS }, (_, i) => `hv-${String(i + 1).padStart(2, '0')}`);
  const empty = aCluster(
    hostIds.map((id) =>
      aHost({
        id,
        logicalProcessors: 64,
        memoryMiB: 512 * 1024,
        storagePools: [{ name: 'csv', capacityBytes: 200 * 1024 * GIB, allocatedBytes: 0 }],
      }),
    ),
  );
  const session = new PlacementSession(empty, { seed: SEED });
  const vms: RebalanceVm[] = [];
  for (let v = 0; v < VMS; v++) {
    const h = v % HOSTS;
    const hostId = hostIds[h] ?? '';
    const vcpus = 1 + Math.floor(rnd() * 4);
    const memoryMiB = 1024 * (2 + Math.floor(rnd() * 11));
    const request: PlacementRequest = {
      vmId: `vm-${v}`,
      name: `vm-${v}`,
      tenantId: `t${v % 7}`,
      vcpus,
      memoryMiB,
      disks: [{ sizeBytes: 40 * GIB }],
      nics: [{}],
      // Every 20th VM is in one of 50 hard anti-affinity pairs: rules the plan must keep.
      groups: v % 20 === 0 ? [{ name: `pair-${(v / 20) % 50}`, kind: 'anti-affinity', hard: true }] : [],
      haPriority: 'medium',
    };
    try {
      session.commit(request, hostId);
    } catch {
      continue; // an anti-affinity clash of the round-robin: the VM is left out
    }
    const share = Math.min(1, busy(h, rnd));
    vms.push({
      request,
      hostId,
      state: 'running',
      load: { cpuMhz: share * vcpus * HOST_MHZ, memoryMiB: memoryMiB * (0.5 + 0.5 * share) },
    });
  }
  return { snapshot: session.snapshot(), vms, hostCpuMhz: Object.fromEntries(hostIds.map((id) => [id, HOST_MHZ])) };
}

function run(label: string, data: ReturnType<typeof cluster>, settings: Partial<RebalanceSettings>): void {
  const times: number[] = [];
  let plan: RebalancePlan | null = null;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    plan = planRebalance({
      cluster: data.snapshot,
      vms: data.vms,
      hostCpuMhz: data.hostCpuMhz,
      settings: { ...DEFAULT_REBALANCE_SETTINGS, ...settings },
      roundsTriggered: 99,
    });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  if (!plan) return;
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const gib = plan.totalBytesToMove / GIB;
  console.log(
    `${label.padEnd(34)} ${median.toFixed(1).padStart(7)} ms  (min ${(times[0] ?? 0).toFixed(1)})  ` +
      `moves ${String(plan.moves.length).padStart(3)}  imbalance ${plan.imbalanceBefore.toFixed(3)} → ${plan.imbalanceAfter.toFixed(3)}  ` +
      `${gib.toFixed(1)} GiB, ${plan.totalPredictedSeconds.toFixed(0)} s predicted` +
      (plan.goal === 'consolidate' ? `  power-off: ${plan.powerOffCandidates.length} hosts` : ''),
  );
}

console.log(
  `rebalance planning: ${HOSTS} hosts, ${VMS} VMs, median of ${RUNS} runs; ${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}`,
);
// A quarter of the hosts run hot (60–100 % of their vCPUs busy), the rest at 5–35 %.
const skewed = cluster((h, rnd) => (h % 4 === 0 ? 0.6 + 0.4 * rnd() : 0.05 + 0.3 * rnd()));
console.log(`  VMs placed: ${skewed.vms.length}`);
run('balance, cap 10 (default)', skewed, { goal: 'balance' });
for (const minImprovement of [0, 0.02, 0.05, 0.1]) {
  run(`balance, cap 100, margin ${minImprovement}`, skewed, { goal: 'balance', maxMovesPerRound: 100, minImprovement });
}
// Night-time: every VM at 2–10 %; consolidation empties the hosts it can.
const quiet = cluster((_h, rnd) => 0.02 + 0.08 * rnd());
run('consolidate, cap 10 (default)', quiet, { goal: 'consolidate' });
run('consolidate, cap 100', quiet, { goal: 'consolidate', maxMovesPerRound: 100 });
