/**
 * Pack against plain best fit on the synthetic workloads with arrivals and
 * departures (testing/synthetic-workload.ts): on each kind of workload and
 * several seeds, the engine's pack (full pipeline, pruned search, release on
 * departure) against best fit led by memory or by the sum of both leftovers,
 * whichever does better. Counts of hosts, not time: deterministic.
 * bench/migration.bench.ts prints the same comparison at 1,000 hosts.
 *
 * CPU-bound and mixed: pack keeps fewer hosts in use, time-averaged, by a
 * margin held on every seed (seeds 1–8 measured: 0.16–0.34 hosts of ~104 on
 * CPU-bound, 0.06–0.13 of ~75 on mixed; asserted: at least 0.1 and 0.04).
 * Memory-bound: pack is best fit on memory, host for host, so no more and no
 * fewer (binding-fit.ts says what was measured trying to beat it there).
 *
 * 300 hosts (70–140 in use): on 100 hosts (25–50 in use) the margins on
 * mixed workloads are a fraction of a host and go either way from seed to
 * seed (memory best fit beat pack on 5 mixed seeds of 10; pack was ahead
 * over the 10).
 */
import { describe, expect, it } from 'vitest';
import type { Assignment } from './reservation';
import type { PlacementRequest } from './snapshot';
import {
  lowerBound,
  packSession,
  syntheticWorkload,
  TimeAverage,
  type Workload,
  type WorkloadShape,
} from './testing/synthetic-workload';

/** Time-averaged hosts in use with the engine's pack. */
function packHosts(w: Workload): number {
  const session = packSession(w);
  const where = new Map<number, { request: PlacementRequest; hostId: string; assignment: Assignment }>();
  const vms = new Map<string, number>();
  const avg = new TimeAverage(w.warmUntil, w.until);
  let v = 0;
  let m = 0;
  for (const e of w.events) {
    if (e.type === 'arrive') {
      const hostId = session.place(e.request).hostId;
      if (hostId) {
        where.set(e.vm, { request: e.request, hostId, assignment: session.commit(e.request, hostId) });
        vms.set(hostId, (vms.get(hostId) ?? 0) + 1);
        v += e.request.vcpus;
        m += e.request.memoryMiB;
      }
    } else {
      const placed = where.get(e.vm);
      if (placed) {
        where.delete(e.vm);
        session.release(placed.request, placed.hostId, placed.assignment);
        const left = (vms.get(placed.hostId) ?? 1) - 1;
        if (left > 0) vms.set(placed.hostId, left);
        else vms.delete(placed.hostId);
        v -= placed.request.vcpus;
        m -= placed.request.memoryMiB;
      }
    }
    avg.step(e.at, vms.size, lowerBound(w, v, m));
  }
  return avg.averageHostsInUse();
}

/** Time-averaged hosts in use with a plain best-fit loop: the fitting host of least `leftover`, lowest index on ties. */
function bestFitHosts(w: Workload, leftover: (freeV: number, freeM: number) => number): number {
  const n = w.cluster.hosts.length;
  const freeV = new Float64Array(n).fill(w.hostCapacity.vcpus);
  const freeM = new Float64Array(n).fill(w.hostCapacity.memoryMiB);
  const count = new Int32Array(n);
  const where = new Map<number, { h: number; vcpus: number; memoryMiB: number }>();
  const avg = new TimeAverage(w.warmUntil, w.until);
  let used = 0;
  let v = 0;
  let m = 0;
  for (const e of w.events) {
    if (e.type === 'arrive') {
      const { vcpus, memoryMiB } = e.request;
      let best = -1;
      let bestLeft = Number.POSITIVE_INFINITY;
      for (let h = 0; h < n; h++) {
        const fv = freeV[h] ?? 0;
        const fm = freeM[h] ?? 0;
        if (fv < vcpus || fm < memoryMiB) continue;
        const left = leftover(fv - vcpus, fm - memoryMiB);
        if (left < bestLeft) {
          best = h;
          bestLeft = left;
        }
      }
      if (best >= 0) {
        freeV[best] = (freeV[best] ?? 0) - vcpus;
        freeM[best] = (freeM[best] ?? 0) - memoryMiB;
        count[best] = (count[best] ?? 0) + 1;
        if (count[best] === 1) used += 1;
        where.set(e.vm, { h: best, vcpus, memoryMiB });
        v += vcpus;
        m += memoryMiB;
      }
    } else {
      const placed = where.get(e.vm);
      if (placed) {
        where.delete(e.vm);
        freeV[placed.h] = (freeV[placed.h] ?? 0) + placed.vcpus;
        freeM[placed.h] = (freeM[placed.h] ?? 0) + placed.memoryMiB;
        count[placed.h] = (count[placed.h] ?? 0) - 1;
        if (count[placed.h] === 0) used -= 1;
        v -= placed.vcpus;
        m -= placed.memoryMiB;
      }
    }
    avg.step(e.at, used, lowerBound(w, v, m));
  }
  return avg.averageHostsInUse();
}

const SEEDS = [1, 2, 3, 4];
/** Hosts fewer in use than the better best fit, at least (time-averaged). */
const MARGIN: Record<WorkloadShape, number> = { 'cpu-bound': 0.1, 'memory-bound': 0, mixed: 0.04 };

describe('pack keeps fewer hosts in use than best fit on arrivals and departures (as few when memory binds)', () => {
  it.each((Object.keys(MARGIN) as WorkloadShape[]).flatMap((shape) => SEEDS.map((seed) => [shape, seed] as const)))(
    '%s, seed %i',
    (shape, seed) => {
      const w = syntheticWorkload({ shape, seed, hosts: 300, population: 3600 });
      const { vcpus: capV, memoryMiB: capM } = w.hostCapacity;
      const pack = packHosts(w);
      const byMemory = bestFitHosts(w, (_v, fm) => fm);
      const bySum = bestFitHosts(w, (fv, fm) => fv / capV + fm / capM);
      const bestFit = Math.min(byMemory, bySum);
      // Memory-bound: within a rounding of the time averages (pack is best fit on memory there, host for host).
      expect(bestFit - pack).toBeGreaterThanOrEqual(MARGIN[shape] - 1e-9);
    },
    120_000,
  );
});
