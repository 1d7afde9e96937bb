import type { RecoveryPoint } from './replication-repository';

const HOUR = 3_600_000;

/**
 * Which recovery points stay (Hyper-V Replica's retention): the latest
 * always; with N additional points, the latest point of each of the last N
 * whole hours before the latest one; app-consistent points are kept the same
 * way (they are points like the others, marked). Everything else goes.
 * Pure: the same points give the same answer, so a retained set re-applied
 * after a crash is the same set.
 */
export function pointsToKeep(
  points: readonly Pick<RecoveryPoint, 'id' | 'takenAt' | 'removedAt'>[],
  additionalPoints: number,
): { keep: string[]; drop: string[] } {
  const live = points.filter((p) => p.removedAt === null).sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  const latest = live[0];
  if (!latest) return { keep: [], drop: [] };
  const keep = new Set<string>([latest.id]);
  if (additionalPoints > 0) {
    const latestHour = Math.floor(latest.takenAt.getTime() / HOUR);
    const seenHours = new Set<number>([latestHour]);
    for (const p of live) {
      const hour = Math.floor(p.takenAt.getTime() / HOUR);
      if (hour < latestHour - additionalPoints) break;
      if (!seenHours.has(hour)) {
        seenHours.add(hour);
        keep.add(p.id);
      }
    }
  }
  return {
    keep: live.filter((p) => keep.has(p.id)).map((p) => p.id),
    drop: live.filter((p) => !keep.has(p.id)).map((p) => p.id),
  };
}
