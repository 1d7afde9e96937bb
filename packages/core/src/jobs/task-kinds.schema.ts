import { TASK_KINDS } from '../tasks/task-protocol.schema';

/**
 * Which kinds of task the Tasks panel lists, and which of them are scheduled
 * background work. Plain data (no service code), so the console can build its
 * Kind filter from it; task-kinds.test.ts checks it against the constants the
 * services create jobs with.
 */

/** Durable jobs (source 'workflow'), each started by a person or by an event such as a failed host. */
export const JOB_KINDS = [
  'billing.close-month',
  'ha.recover-host',
  'mobility.migrate-vm',
  'mobility.move-vm-storage',
  'mobility.bring-back',
  'replication.enable',
  'replication.test-failover',
  'replication.stop-test',
  'replication.planned-failover',
  'replication.failover',
  'replication.complete-failover',
  'replication.cancel-failover',
  'replication.reverse',
  'replication.remove',
] as const;

/** Every kind a task can have: the jobs, then the hosts' agents' tasks (VM actions and the steps of replication, migration and storage moves). */
export const ALL_TASK_KINDS: readonly string[] = [...JOB_KINDS, ...TASK_KINDS];

/** Jobs that belong to no tenant (a month close, a failed host's recovery): a tenant never has one. */
export const PROVIDER_ONLY_KINDS: readonly string[] = ['billing.close-month', 'ha.recover-host', 'mobility.bring-back'];

/**
 * Scheduled background work: what the fabric does by itself on a timer, not
 * what someone asked for. Replication ships a cycle to the replica host and
 * prunes its recovery points after it, every few seconds to minutes per VM:
 * two tasks a cycle, which would bury a tenant's own VM actions in the Tasks
 * panel. Replication that someone starts (enable, test failover, failover,
 * remove, and their host steps) is not background. A cycle inside such a job
 * (the initial copy, a planned failover's final cycle) shows as that job's step.
 * Rebalancing rounds, metering and the HA monitor create no tasks; a move they
 * lead to (a migration, an HA restart) is a task of its own, always listed.
 */
export const BACKGROUND_TASK_KINDS: readonly string[] = ['replica.cycle', 'replica.retain'];

export function isBackgroundKind(kind: string): boolean {
  return BACKGROUND_TASK_KINDS.includes(kind);
}

/**
 * The kinds a list leaves out: background work unless asked for, either with
 * `background` or by filtering on a background kind by name (someone who
 * picks "Replica cycle" wants to see cycles).
 */
export function hiddenTaskKinds(query: { background: boolean; kind?: string | undefined }): readonly string[] {
  if (query.background || (query.kind !== undefined && isBackgroundKind(query.kind))) return [];
  return BACKGROUND_TASK_KINDS;
}
