import type { RecoveryPoint } from './replication-repository';

const HOUR = 3_600_000;

/**
 * Which recovery points stay (Hyper-V Replica's retention): the latest
 * always; with N additional points, one point for each of the last N whole
 * hours before the latest one: that hour's application-consistent point when
 * the guest quiesced in it (as Hyper-V's hourly point is the VSS snapshot when
 * one was taken), else its latest. The newest application-consistent point of
 * the latest hour stays beside the latest too, so it is not lost before its
 * hour ends (it then becomes that hour's point). Everything else goes.
 * Pure: the same points give the same answer, so a retained set re-applied
 * after a crash is the same set.
 */
export function pointsToKeep(
  points: readonly (Pick<RecoveryPoint, 'id' | 'takenAt' | 'removedAt'> & { kind?: RecoveryPoint['kind'] })[],
  additionalPoints: number,
): { keep: string[]; drop: string[] } {
  const live = points.filter((p) => p.removedAt === null).sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  const latest = live[0];
  if (!latest) return { keep: [], drop: [] };
  const keep = new Set<string>([latest.id]);
  if (additionalPoints > 0) {
    const latestHour = Math.floor(latest.takenAt.getTime() / HOUR);
    // Per hour, newest first: the point that stands for it (an application-consistent one wins).
    const chosen = new Map<number, { id: string; appConsistent: boolean }>();
    for (const p of live) {
      const hour = Math.floor(p.takenAt.getTime() / HOUR);
      if (hour < latestHour - additionalPoints) break;
      const appConsistent = p.kind === 'app-consistent';
      const current = chosen.get(hour);
      if (!current || (appConsistent && !current.appConsistent)) chosen.set(hour, { id: p.id, appConsistent });
    }
    for (const [hour, point] of chosen) {
      // The latest hour is the latest point's own; its application-consistent point stays beside it.
      if (hour !== latestHour || point.appConsistent) keep.add(point.id);
    }
  }
  return {
    keep: live.filter((p) => keep.has(p.id)).map((p) => p.id),
    drop: live.filter((p) => !keep.has(p.id)).map((p) => p.id),
  };
}
