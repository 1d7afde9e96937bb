import { REPLICATION_LIMITS, type ReplicationFrequency } from '@fabric/core/replication/replication.schema';

/** The enable forms' choices (one VM's card and by pattern), from core's limits so the two forms offer the same. */
export const FREQUENCIES: { value: ReplicationFrequency; label: string }[] = [
  { value: 30, label: 'Every 30 seconds' },
  { value: 300, label: 'Every 5 minutes' },
  { value: 900, label: 'Every 15 minutes' },
];

/** 0 (the latest only) to REPLICATION_LIMITS.additionalPointsMax extra hourly points. */
export const POINT_CHOICES = Array.from({ length: REPLICATION_LIMITS.additionalPointsMax + 1 }, (_, n) => n);

/** 0 (none), then every 1–12 hours (REPLICATION_LIMITS.appConsistentHours). */
export const APP_CONSISTENT_CHOICES = Array.from(
  { length: REPLICATION_LIMITS.appConsistentHours.max + 1 },
  (_, n) => n,
);

export function appConsistentLabel(hours: number): string {
  return hours === 0 ? 'None' : hours === 1 ? 'Every hour' : `Every ${hours} hours`;
}

/** The API's appConsistentHours for a choice: null is none. */
export function appConsistentHours(choice: number): number | null {
  return choice === 0 ? null : choice;
}
