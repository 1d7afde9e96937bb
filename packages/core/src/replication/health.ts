/**
 * Replication health, as Hyper-V Replica reports it (Windows Server 2012 R2):
 * - critical: replication failed (error), is paused, or needs resync;
 * - warning: more cycles missed in the last hour than the threshold allows
 *   (default 20% of the cycles the frequency expects), or a failover under way;
 * - normal otherwise.
 * A cycle is missed when it was recorded missed / failed, or when no point
 * arrived for a whole period (lag): `implicit` misses, counted from the
 * latest point, so a stopped replica host turns warning without any report.
 *
 * `evaluateHealth` is pure and O(misses of one relationship). It also says
 * when the answer can next change by the clock alone (`changesAt`), which
 * feeds a due-time index: `HealthBook` below (in memory, a min-heap) and the
 * `health_due_at` column (in Postgres, an index) re-evaluate only the
 * relationships that are due or reported something, never all of them.
 */

import { MinHeap } from './min-heap';
import type { Health, ReplicationState } from './replication.schema';

export const HEALTH_DEFAULTS = {
  /** Warning when missed / expected cycles in the window exceeds this. */
  missedRatioWarning: 0.2,
  windowMs: 3_600_000,
} as const;

export interface HealthFacts {
  readonly id: string;
  readonly tenantId: string;
  readonly replicaClusterId: string;
  readonly state: ReplicationState;
  readonly frequencySeconds: number;
  /** Epoch ms of the latest recovery point (a successful cycle), or null before the first. */
  readonly lastSuccessAt: number | null;
  /** Epoch ms of cycles recorded missed or failed (only the last window matters). */
  readonly misses: readonly number[];
  /**
   * Set when the replica host does not answer (its heartbeats stopped: suspect or failed): the reason to show,
   * e.g. "Replica host hv-b1 is not answering". Cycles cannot land, so health is at least warning at once,
   * without waiting for a fifth of the hour's cycles to be missed.
   */
  readonly replicaHostDown?: string | null;
}

/** Host states whose heartbeats stopped: a replica host in one does not receive cycles. */
export const SILENT_HOST_STATES: ReadonlySet<string> = new Set(['suspect', 'failed']);

/** The health reason for a replica host that does not answer; tenants are not told host names. */
export function replicaHostDownReason(host: { name: string; state: string } | null, showName: boolean): string | null {
  if (!host) return showName ? 'The replica host is gone' : 'The replica host is not answering';
  if (!SILENT_HOST_STATES.has(host.state)) return null;
  return showName ? `Replica host ${host.name} is not answering` : 'The replica host is not answering';
}

/** States in which cycles should land on the replica host (a silent one makes them warn). */
const SHIPPING_STATES: ReadonlySet<ReplicationState> = new Set(['replicating', 'test-failover', 'initial-running']);

export interface HealthVerdict {
  readonly health: Health;
  /** ms since the latest point; null before the first. */
  readonly lagMs: number | null;
  readonly missedLastHour: number;
  readonly expectedLastHour: number;
  readonly reason: string;
  /** Epoch ms when the verdict can change with no new report; null: only a report changes it. */
  readonly changesAt: number | null;
}

const CRITICAL_STATES: ReadonlySet<ReplicationState> = new Set(['error', 'paused', 'resync-needed']);
const WARNING_STATES: ReadonlySet<ReplicationState> = new Set(['failing-over', 'failover-pending']);
/** States where cycles do not run: lag and misses are not judged. */
const IDLE_STATES: ReadonlySet<ReplicationState> = new Set(['initial-pending', 'initial-running', 'failed-over']);

export function evaluateHealth(
  facts: HealthFacts,
  now: number,
  options: { missedRatioWarning?: number; windowMs?: number } = {},
): HealthVerdict {
  const ratio = options.missedRatioWarning ?? HEALTH_DEFAULTS.missedRatioWarning;
  const windowMs = options.windowMs ?? HEALTH_DEFAULTS.windowMs;
  const freqMs = facts.frequencySeconds * 1000;
  const expected = Math.max(1, Math.floor(windowMs / freqMs));
  const lagMs = facts.lastSuccessAt === null ? null : Math.max(0, now - facts.lastSuccessAt);
  if (CRITICAL_STATES.has(facts.state)) {
    const reason =
      facts.state === 'paused'
        ? 'Replication is paused'
        : facts.state === 'error'
          ? 'Replication failed'
          : 'Resynchronization is needed';
    return { health: 'critical', lagMs, missedLastHour: 0, expectedLastHour: expected, reason, changesAt: null };
  }
  if (WARNING_STATES.has(facts.state)) {
    return {
      health: 'warning',
      lagMs,
      missedLastHour: 0,
      expectedLastHour: expected,
      reason: 'A failover is under way',
      changesAt: null,
    };
  }
  if (facts.replicaHostDown && SHIPPING_STATES.has(facts.state)) {
    return {
      health: 'warning',
      lagMs,
      missedLastHour: 0,
      expectedLastHour: expected,
      reason: facts.replicaHostDown,
      // Changes with a report: the next cycle (failed again, or landed once the host answers).
      changesAt: null,
    };
  }
  if (facts.state === 'removing') {
    return {
      health: 'normal',
      lagMs,
      missedLastHour: 0,
      expectedLastHour: expected,
      reason: 'Replication is being removed',
      changesAt: null,
    };
  }
  if (IDLE_STATES.has(facts.state) || facts.lastSuccessAt === null) {
    return {
      health: 'normal',
      lagMs,
      missedLastHour: 0,
      expectedLastHour: expected,
      reason: 'Not replicating yet',
      changesAt: null,
    };
  }
  const windowStart = now - windowMs;
  const last = facts.lastSuccessAt;
  // Misses recorded before the latest point (those after it are counted by the lag below).
  let explicit = 0;
  let oldestExplicit = Number.POSITIVE_INFINITY;
  for (const at of facts.misses) {
    if (at > windowStart && at <= last) {
      explicit++;
      if (at < oldestExplicit) oldestExplicit = at;
    }
  }
  // Whole periods without a point beyond the one in progress.
  const implicit = Math.min(expected, Math.max(0, Math.floor((now - last) / freqMs) - 1));
  const missed = Math.min(expected, explicit + implicit);
  const limit = Math.floor(ratio * expected); // more than `limit` misses is a warning
  const warning = missed > limit;
  // When the clock alone changes the verdict: a miss ages out of the window, or the lag adds the miss that crosses the limit.
  let changesAt: number | null = null;
  if (warning) {
    if (explicit > 0) changesAt = oldestExplicit + windowMs;
    // An implicit-only warning lasts until a point arrives (a report).
  } else {
    const needed = limit + 1 - explicit; // implicit misses that would make it a warning
    const crossAt = last + (needed + 1) * freqMs;
    changesAt = crossAt;
  }
  const reason = warning
    ? `${missed} of ${expected} cycles missed in the last hour (more than ${Math.round(ratio * 100)}%)`
    : missed > 0
      ? `${missed} of ${expected} cycles missed in the last hour`
      : 'Replicating on schedule';
  return {
    health: warning ? 'warning' : 'normal',
    lagMs,
    missedLastHour: missed,
    expectedLastHour: expected,
    reason,
    changesAt,
  };
}

export interface HealthChange {
  readonly id: string;
  readonly from: Health | null;
  readonly to: Health;
}

interface Entry {
  facts: HealthFacts;
  health: Health;
  /** Bumped on every update: heap entries with an older version are stale. */
  version: number;
}

/**
 * Health of many relationships kept current incrementally: a report
 * (`update`) re-evaluates one relationship; `tick(now)` re-evaluates only
 * those whose `changesAt` has come (a min-heap on it). Roll-ups per tenant
 * and per replica cluster are counters moved on each change, so reading them
 * costs nothing per relationship.
 */
export class HealthBook {
  private readonly entries = new Map<string, Entry>();
  private readonly due = new MinHeap<{ id: string; version: number }>();
  private readonly byTenant = new Map<string, Record<Health, number>>();
  private readonly byCluster = new Map<string, Record<Health, number>>();
  /** Relationships evaluated since construction (what a pass cost). */
  evaluations = 0;

  constructor(private readonly options: { missedRatioWarning?: number; windowMs?: number } = {}) {}

  get size(): number {
    return this.entries.size;
  }

  health(id: string): Health | undefined {
    return this.entries.get(id)?.health;
  }

  update(facts: HealthFacts, now: number): HealthChange | null {
    const previous = this.entries.get(facts.id);
    const verdict = evaluateHealth(facts, now, this.options);
    this.evaluations++;
    const entry: Entry = { facts, health: verdict.health, version: (previous?.version ?? 0) + 1 };
    this.entries.set(facts.id, entry);
    if (previous) this.count(previous.facts, previous.health, -1);
    this.count(facts, verdict.health, 1);
    if (verdict.changesAt !== null) this.due.push(verdict.changesAt, { id: facts.id, version: entry.version });
    return previous?.health === verdict.health
      ? null
      : { id: facts.id, from: previous?.health ?? null, to: verdict.health };
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.count(entry.facts, entry.health, -1);
    this.entries.delete(id);
  }

  /** Re-evaluates what is due at `now`; returns the changes. */
  tick(now: number): HealthChange[] {
    const changes: HealthChange[] = [];
    for (;;) {
      const key = this.due.peekKey();
      if (key === undefined || key > now) break;
      const { value } = this.due.pop() as { key: number; value: { id: string; version: number } };
      const entry = this.entries.get(value.id);
      if (!entry || entry.version !== value.version) continue; // stale
      const change = this.update(entry.facts, now);
      if (change) changes.push(change);
    }
    return changes;
  }

  tenantRollup(tenantId: string): Record<Health, number> {
    return { ...(this.byTenant.get(tenantId) ?? zero()) };
  }

  clusterRollup(clusterId: string): Record<Health, number> {
    return { ...(this.byCluster.get(clusterId) ?? zero()) };
  }

  private count(facts: HealthFacts, health: Health, delta: number) {
    for (const [map, key] of [
      [this.byTenant, facts.tenantId],
      [this.byCluster, facts.replicaClusterId],
    ] as const) {
      let counts = map.get(key);
      if (!counts) {
        counts = zero();
        map.set(key, counts);
      }
      counts[health] += delta;
    }
  }
}

function zero(): Record<Health, number> {
  return { normal: 0, warning: 0, critical: 0 };
}

/** Worst of several healths (roll-up of one VM's or tenant's relationships). */
export function worstHealth(values: Iterable<Health>): Health {
  let worst: Health = 'normal';
  for (const h of values) {
    if (h === 'critical') return 'critical';
    if (h === 'warning') worst = 'warning';
  }
  return worst;
}
