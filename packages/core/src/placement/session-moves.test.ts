import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlacementSession, type PlaceOptions } from './place';
import type { Assignment } from './reservation';
import type { PlacementRequest } from './snapshot';
import { syntheticWorkload } from './testing/synthetic-workload';

interface Placed {
  request: PlacementRequest;
  hostId: string;
  assignment: Assignment;
}

describe('PlacementSession release and move: updated in place, as if rebuilt', () => {
  it('after any sequence of arrivals, departures and moves, decisions equal a session rebuilt from the snapshot', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('cpu-bound', 'memory-bound', 'mixed' as const),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 10, maxLength: 60 }),
        fc.constantFrom<Partial<PlaceOptions>>({}, { trace: 'summary', candidateLimit: 3 }),
        (shape, seed, moves, extra) => {
          const w = syntheticWorkload({ shape, seed, hosts: 12, population: 60, arrivals: 150 });
          const options: PlaceOptions = { seed, trace: 'summary', ...extra };
          const session = new PlacementSession(w.cluster, options);
          const placed = new Map<number, Placed>();
          let m = 0;
          for (const e of w.events) {
            if (e.type === 'arrive') {
              const decision = session.place(e.request);
              const rebuilt = new PlacementSession(session.snapshot(), options).place(e.request);
              expect(decision.hostId).toBe(rebuilt.hostId);
              if (decision.hostId) {
                const assignment = session.commit(e.request, decision.hostId);
                placed.set(e.vm, { request: e.request, hostId: decision.hostId, assignment });
              }
            } else {
              const p = placed.get(e.vm);
              if (p) {
                session.release(p.request, p.hostId, p.assignment);
                placed.delete(e.vm);
              }
            }
            // Now and then, move a random VM to a random host (refusals leave the session unchanged).
            const move = moves[m++ % moves.length];
            if (move && placed.size > 0) {
              const vms = [...placed.values()];
              const p = vms[move[0] % vms.length];
              const to = w.cluster.hosts[move[1] % w.cluster.hosts.length]?.id ?? '';
              if (p && to !== p.hostId) {
                const before = JSON.stringify(session.snapshot());
                try {
                  p.assignment = session.move(p.request, p.hostId, p.assignment, to);
                  p.hostId = to;
                } catch {
                  expect(JSON.stringify(session.snapshot())).toBe(before);
                }
              }
            }
          }
          // The books: every host holds exactly the VMs placed on it.
          const snapshot = session.snapshot();
          for (const host of snapshot.hosts) {
            const mine = [...placed.values()].filter((p) => p.hostId === host.id);
            expect(host.allocated.vmCount).toBe(mine.length);
            expect(host.allocated.vcpus).toBe(mine.reduce((s, p) => s + p.request.vcpus, 0));
            expect(host.allocated.memoryMiB).toBe(mine.reduce((s, p) => s + p.request.memoryMiB, 0));
          }
          expect(snapshot.vmCount).toBe(placed.size);
        },
      ),
      { numRuns: 20 },
    );
  }, 60_000);

  it('release refuses a VM the host does not hold', () => {
    const w = syntheticWorkload({ shape: 'mixed', seed: 1, hosts: 2, population: 4, arrivals: 4 });
    const session = new PlacementSession(w.cluster, { seed: 1 });
    const first = w.events.find((e) => e.type === 'arrive');
    if (first?.type !== 'arrive') throw new Error('no arrival');
    expect(() => session.release(first.request, 'host-0', { diskPools: ['pool'], nicNames: [null] })).toThrow(
      /does not hold/,
    );
  });
});
