// `npm run bench -- migration`: mobility figures. Prints, never asserts.
//   1. packing with arrivals and departures (synthetic CPU-bound, memory-bound
//      and mixed workloads on 1,000 hosts): time-averaged hosts in use / time-
//      averaged lower bound, and decisions/s, for the engine's pack (full
//      pipeline: filters, scorers, summary trace, incremental release on every
//      departure) against plain first-fit and best-fit loops in the same run;
//   2. the live migration model: predicted vs simulated duration and blackout for 1, 4 and 16 at once;
//   3. evacuating a 40-VM host: planning time, spread, predicted time to empty under the per-host cap.
// Flags: --hosts 1000 --population 12000 --seeds 1,2,3 --shapes cpu-bound,memory-bound,mixed, and the workload's
// parameters (packing must not be tuned to one): --lps 32 --memory-gib 512 (host shape), --size-factor 1 (VMs
// that many times larger), --mix 1,1,1 (mixed: CPU-heavy, memory-heavy, balanced shares), --only-packing.
import { cpus, loadavg } from 'node:os';
import { planEvacuation } from '../packages/core/src/mobility/evacuate-host';
import {
  DEFAULT_MIGRATION_POLICY,
  guestDirtying,
  predictSharedLink,
  simulatePreCopy,
} from '../packages/core/src/mobility/migration-model';
import { PlacementSession } from '../packages/core/src/placement/place';
import type { Assignment } from '../packages/core/src/placement/reservation';
import { seededRandom } from '../packages/core/src/placement/seeded-order';
import type { PlacementRequest } from '../packages/core/src/placement/snapshot';
import {
  lowerBound,
  packSession,
  syntheticWorkload,
  TimeAverage,
  type Workload,
  type WorkloadShape,
} from '../packages/core/src/placement/testing/synthetic-workload';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const HOSTS = Number(flag('hosts', '1000'));
const POPULATION = Number(flag('population', String(HOSTS * 12)));
const SEEDS = flag('seeds', '1,2,3').split(',').map(Number);
const SHAPES = flag('shapes', 'cpu-bound,memory-bound,mixed').split(',') as WorkloadShape[];
const HOST_SHAPE = { logicalProcessors: Number(flag('lps', '32')), memoryGiB: Number(flag('memory-gib', '512')) };
const SIZE_FACTOR = Number(flag('size-factor', '1'));
const MIX = flag('mix', '1,1,1').split(',').map(Number) as [number, number, number];
const ONLY_PACKING = process.argv.includes('--only-packing');
const CANDIDATE_LIMIT = 8;

interface PackResult {
  readonly ratio: number;
  readonly decisions: number;
  readonly departures: number;
  readonly refused: number;
  readonly elapsedMs: number;
  /** Process CPU time (user + system): less disturbed than wall time on a shared, loaded machine. */
  readonly cpuMs: number;
  readonly avgHostsInUse: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The engine: session.place + commit per arrival, session.release per departure. */
function runPack(w: Workload): PackResult {
  const session = packSession(w, CANDIDATE_LIMIT);
  const where = new Map<number, { request: PlacementRequest; hostId: string; assignment: Assignment }>();
  const vmsOnHost = new Map<string, number>();
  const avg = new TimeAverage(w.warmUntil, w.until);
  let sumV = 0;
  let sumM = 0;
  let decisions = 0;
  let departures = 0;
  let refused = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  for (const e of w.events) {
    if (e.type === 'arrive') {
      decisions += 1;
      const decision = session.place(e.request);
      if (decision.hostId === null) {
        refused += 1;
        continue;
      }
      const assignment = session.commit(e.request, decision.hostId);
      where.set(e.vm, { request: e.request, hostId: decision.hostId, assignment });
      vmsOnHost.set(decision.hostId, (vmsOnHost.get(decision.hostId) ?? 0) + 1);
      sumV += e.request.vcpus;
      sumM += e.request.memoryMiB;
    } else {
      const placed = where.get(e.vm);
      if (!placed) continue;
      departures += 1;
      where.delete(e.vm);
      session.release(placed.request, placed.hostId, placed.assignment);
      const left = (vmsOnHost.get(placed.hostId) ?? 1) - 1;
      if (left > 0) vmsOnHost.set(placed.hostId, left);
      else vmsOnHost.delete(placed.hostId);
      sumV -= placed.request.vcpus;
      sumM -= placed.request.memoryMiB;
    }
    avg.step(e.at, vmsOnHost.size, lowerBound(w, sumV, sumM));
  }
  const elapsedMs = performance.now() - started;
  const cpuMs = cpuMsSince(cpuStart);
  return {
    ratio: avg.ratio(),
    decisions,
    departures,
    refused,
    elapsedMs,
    cpuMs,
    avgHostsInUse: avg.averageHostsInUse(),
  };
}

type Chooser = (freeV: Float64Array, freeM: Float64Array, vcpus: number, memoryMiB: number) => number;

/** Plain loops over free vCPUs and memory (the only resources these workloads bind on). */
function runBaseline(w: Workload, choose: Chooser): PackResult {
  const n = w.cluster.hosts.length;
  const freeV = new Float64Array(n).fill(w.hostCapacity.vcpus);
  const freeM = new Float64Array(n).fill(w.hostCapacity.memoryMiB);
  const count = new Int32Array(n);
  const where = new Map<number, { host: number; vcpus: number; memoryMiB: number }>();
  const avg = new TimeAverage(w.warmUntil, w.until);
  let used = 0;
  let sumV = 0;
  let sumM = 0;
  let decisions = 0;
  let departures = 0;
  let refused = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  for (const e of w.events) {
    if (e.type === 'arrive') {
      decisions += 1;
      const { vcpus, memoryMiB } = e.request;
      const h = choose(freeV, freeM, vcpus, memoryMiB);
      if (h < 0) {
        refused += 1;
        continue;
      }
      freeV[h] = (freeV[h] ?? 0) - vcpus;
      freeM[h] = (freeM[h] ?? 0) - memoryMiB;
      if ((count[h] ?? 0) === 0) used += 1;
      count[h] = (count[h] ?? 0) + 1;
      where.set(e.vm, { host: h, vcpus, memoryMiB });
      sumV += vcpus;
      sumM += memoryMiB;
    } else {
      const placed = where.get(e.vm);
      if (!placed) continue;
      departures += 1;
      where.delete(e.vm);
      const h = placed.host;
      freeV[h] = (freeV[h] ?? 0) + placed.vcpus;
      freeM[h] = (freeM[h] ?? 0) + placed.memoryMiB;
      count[h] = (count[h] ?? 0) - 1;
      if (count[h] === 0) used -= 1;
      sumV -= placed.vcpus;
      sumM -= placed.memoryMiB;
    }
    avg.step(e.at, used, lowerBound(w, sumV, sumM));
  }
  const elapsedMs = performance.now() - started;
  const cpuMs = cpuMsSince(cpuStart);
  return {
    ratio: avg.ratio(),
    decisions,
    departures,
    refused,
    elapsedMs,
    cpuMs,
    avgHostsInUse: avg.averageHostsInUse(),
  };
}

const firstFit: Chooser = (freeV, freeM, vcpus, memoryMiB) => {
  for (let h = 0; h < freeV.length; h++) if ((freeV[h] ?? 0) >= vcpus && (freeM[h] ?? 0) >= memoryMiB) return h;
  return -1;
};

/** Classic best fit: the host left with the least free memory (memory-led, as pack was). */
const bestFitMemory: Chooser = (freeV, freeM, vcpus, memoryMiB) => {
  let best = -1;
  let bestLeft = Number.POSITIVE_INFINITY;
  for (let h = 0; h < freeV.length; h++) {
    const m = freeM[h] ?? 0;
    if ((freeV[h] ?? 0) >= vcpus && m >= memoryMiB && m - memoryMiB < bestLeft) {
      best = h;
      bestLeft = m - memoryMiB;
    }
  }
  return best;
};

/** Best fit on the sum of leftover fractions (vCPUs + memory, each over the host's capacity). */
function bestFitSum(capV: number, capM: number): Chooser {
  return (freeV, freeM, vcpus, memoryMiB) => {
    let best = -1;
    let bestLeft = Number.POSITIVE_INFINITY;
    for (let h = 0; h < freeV.length; h++) {
      const v = freeV[h] ?? 0;
      const m = freeM[h] ?? 0;
      if (v < vcpus || m < memoryMiB) continue;
      const left = (v - vcpus) / capV + (m - memoryMiB) / capM;
      if (left < bestLeft) {
        best = h;
        bestLeft = left;
      }
    }
    return best;
  };
}

function verdict(pack: number, bestFit: number): string {
  if (Math.abs(pack - bestFit) < 1e-4) return 'tie';
  return pack < bestFit ? 'pack better' : 'best-fit better';
}

function line(name: string, r: PackResult): string {
  const perSecond = (r.decisions / r.elapsedMs) * 1000;
  const perCpuSecond = (r.decisions / r.cpuMs) * 1000;
  const eventsPerSecond = ((r.decisions + r.departures) / r.elapsedMs) * 1000;
  return `    ${name.padEnd(20)} ${r.ratio.toFixed(4)} × lower bound  (avg ${r.avgHostsInUse.toFixed(1)} hosts in use)  ${perSecond.toFixed(0).padStart(8)} decisions/s wall, ${perCpuSecond.toFixed(0).padStart(8)} per CPU-second  ${eventsPerSecond.toFixed(0).padStart(8)} events/s${r.refused ? `  refused ${r.refused}` : ''}`;
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs (wall figures shrink under load)`,
);
console.log(
  `packing with arrivals and departures: ${HOSTS.toLocaleString('en-US')} hosts (${HOST_SHAPE.logicalProcessors * 4} vCPUs at 4:1, ${HOST_SHAPE.memoryGiB} GiB usable), VM sizes x${SIZE_FACTOR}, mixed shares ${MIX.join(':')}, ~${POPULATION.toLocaleString('en-US')} VMs alive, ${(POPULATION * 3).toLocaleString('en-US')} arrivals per run; pack = engine (filters + scorers + summary trace, candidate limit ${CANDIDATE_LIMIT}, release on departure); baselines are plain loops`,
);
// JIT warm-up on a small run, so the first figures are not compile time.
runPack(syntheticWorkload({ shape: 'mixed', seed: 99, hosts: 200, population: 2000 }));
const summary: string[] = [];
for (const shape of SHAPES) {
  for (const seed of SEEDS) {
    const w = syntheticWorkload({
      shape,
      seed,
      hosts: HOSTS,
      population: POPULATION,
      host: HOST_SHAPE,
      sizeFactor: SIZE_FACTOR,
      mix: MIX,
    });
    console.log(`  ${shape}, seed ${seed}`);
    const pack = runPack(w);
    const ff = runBaseline(w, firstFit);
    const bfm = runBaseline(w, bestFitMemory);
    const bfs = runBaseline(w, bestFitSum(w.hostCapacity.vcpus, w.hostCapacity.memoryMiB));
    console.log(line('pack (engine)', pack));
    console.log(line('first-fit', ff));
    console.log(line('best-fit (memory)', bfm));
    console.log(line('best-fit (sum)', bfs));
    const bestBaseline = Math.min(ff.ratio, bfm.ratio, bfs.ratio);
    summary.push(
      `  ${shape.padEnd(13)} seed ${seed}: pack ${pack.ratio.toFixed(4)} vs best-fit ${Math.min(bfm.ratio, bfs.ratio).toFixed(4)} (${verdict(pack.ratio, Math.min(bfm.ratio, bfs.ratio))}), vs the best baseline ${bestBaseline.toFixed(4)}; pack ${((pack.decisions / pack.elapsedMs) * 1000).toFixed(0)} decisions/s wall, ${((pack.decisions / pack.cpuMs) * 1000).toFixed(0)} per CPU-second`,
    );
  }
}
console.log('\nsummary (hosts in use / lower bound, time-averaged after warm-up)');
for (const s of summary) console.log(s);
if (ONLY_PACKING) process.exit(0);

// 2. Live migration model: predicted vs simulated (page-level, noisy guest) duration and blackout, for 1, 4 and
//    16 simultaneous migrations sharing one 10 Gbps link (those that finish free their share).
{
  const random = seededRandom(5);
  console.log(
    '\nlive migration: predicted vs simulated, 10 Gbps migration link shared evenly (policy: cap non-converging)',
  );
  for (const n of [1, 4, 16]) {
    const vms = Array.from({ length: n }, () => {
      const memoryMiB = [2048, 4096, 8192, 16384][Math.floor(random() * 4)] ?? 4096;
      const vcpus = [1, 2, 4, 8][Math.floor(random() * 4)] ?? 2;
      return { memoryMiB, ...guestDirtying(vcpus, memoryMiB, 0.1 + 0.7 * random()), linkMbps: 10_000 };
    });
    const predicted = predictSharedLink(vms);
    // Each ends when predicted; the link share grows as others end.
    const ends = predicted.map((p) => p.totalSeconds);
    const t0 = performance.now();
    const observed = vms.map((vm, i) =>
      simulatePreCopy({ ...vm, concurrent: n }, DEFAULT_MIGRATION_POLICY, random, {
        concurrentAt: (t) => Math.max(1, ends.filter((e, j) => j === i || e > t).length),
        dirtyCapMiBps: predicted[i]?.verdict === 'capped' ? predicted[i]?.dirtyMiBps : undefined,
      }),
    );
    const simMs = performance.now() - t0;
    const err = (a: number, b: number) => Math.abs(a - b) / Math.max(b, 1e-9);
    const durErr = observed.map((o, i) => err(o.totalSeconds, predicted[i]?.totalSeconds ?? 0));
    const pause = observed.map((o) => o.blackoutMs);
    const pausePred = predicted.map((p) => p.blackoutMs);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    console.log(
      `  ${String(n).padStart(2)} at once: duration predicted ${mean(ends).toFixed(1)} s avg (max ${Math.max(...ends).toFixed(1)} s), simulated ${mean(observed.map((o) => o.totalSeconds)).toFixed(1)} s avg (max ${Math.max(...observed.map((o) => o.totalSeconds)).toFixed(1)} s), mean |error| ${(mean(durErr) * 100).toFixed(1)} %; blackout predicted ${mean(pausePred).toFixed(0)} ms avg, simulated ${mean(pause).toFixed(0)} ms avg (max ${Math.max(...pause).toFixed(0)} ms); ${predicted.filter((p) => p.verdict === 'capped').length} capped, ${predicted.filter((p) => p.verdict === 'refused').length} refused; simulation ${simMs.toFixed(0)} ms`,
    );
  }
}

// 3. Evacuating a 40-VM host: the engine's plan (time to plan, spread) and the predicted time to empty it
//    under the per-host cap (2 live migrations at once from the source, sharing its 10 Gbps link).
{
  const random = seededRandom(9);
  const GiB = 1024;
  const hostCount = 16;
  const hosts = Array.from({ length: hostCount }, (_, i) => ({
    id: `h-${i}`,
    name: `hv-${String(i).padStart(2, '0')}`,
    clusterId: 'evac',
    state: 'connected' as const,
    logicalProcessors: 64,
    memoryMiB: 512 * GiB + 2048,
    numaNodes: 2,
    reservedMemoryMiB: 2048,
    allocated: { vcpus: 0, memoryMiB: 0, vmCount: 0 },
    storagePools: [{ name: 'pool', capacityBytes: 2 ** 45, allocatedBytes: 0 }],
    nics: [{ name: 'nic0', linkSpeedMbps: 10_000, reservedMinMbps: 0 }],
    dedicatedTenantId: null,
    groups: {},
  }));
  const session = new PlacementSession(
    { id: 'evac', name: 'evac', maxVms: 4000, vmCount: 0, cpuOvercommitRatio: 4, policy: 'balance', hosts },
    { seed: 1, trace: 'summary' },
  );
  const vms: { request: PlacementRequest; currentHostId: string }[] = [];
  for (let i = 0; i < 40 * hostCount; i++) {
    const vcpus = [1, 2, 4, 8][Math.floor(random() * 4)] ?? 2;
    const request: PlacementRequest = {
      vmId: `vm-${i}`,
      name: `vm-${i}`,
      tenantId: `t${i % 7}`,
      vcpus,
      memoryMiB: vcpus * ([1, 2, 2, 4][Math.floor(random() * 4)] ?? 2) * GiB,
      disks: [{ sizeBytes: 40 * 2 ** 30 }],
      nics: [{}],
      groups: [],
      haPriority: 'medium',
    };
    const hostId = `h-${i % hostCount}`;
    session.commit(request, hostId);
    vms.push({ request, currentHostId: hostId });
  }
  const t0 = performance.now();
  const plan = planEvacuation(session.snapshot(), 'h-0', vms);
  const planMs = performance.now() - t0;
  // Two at a time from the source (the per-host cap), each pair sharing the link.
  const moves = plan.moves.map((m) => ({
    memoryMiB: m.memoryMiB,
    ...guestDirtying(4, m.memoryMiB, 0.1 + 0.5 * random()),
    linkMbps: 10_000,
  }));
  let seconds = 0;
  for (let i = 0; i < moves.length; i += 2) {
    const wave = predictSharedLink(moves.slice(i, i + 2));
    seconds += Math.max(...wave.map((p) => p.totalSeconds));
  }
  const spread = Object.values(plan.perTarget);
  console.log(
    `\nevacuating a 40-VM host (${hostCount} hosts, ${vms.length} VMs): plan in ${planMs.toFixed(1)} ms, ${plan.moves.length} moves over ${spread.length} hosts (${Math.min(...spread)}–${Math.max(...spread)} each), ${plan.unmovable.length} unmovable; predicted ${(seconds / 60).toFixed(1)} min to empty under the cap of 2 live migrations per host`,
  );
}
