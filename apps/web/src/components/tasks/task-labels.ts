import type { Tone } from '@/components/ui/badge';
import type { RouterOutputs } from '@/trpc/types';

export type TaskRecord = RouterOutputs['tasks']['get'];
export type TaskState = TaskRecord['state'];
export type TaskStep = TaskRecord['steps'][number];
export type TaskArea = 'admin' | 'portal';

/** Kinds as people say them; a kind not listed here reads from its name ("host.monitor" → "Host monitor"). */
export const KIND_LABELS: Record<string, string> = {
  'billing.close-month': 'Close month',
  'vm.create': 'Create VM',
  'vm.start': 'Start VM',
  'vm.stop': 'Shut down VM',
  'vm.turn-off': 'Turn off VM',
  'vm.restart': 'Restart VM',
  'vm.pause': 'Pause VM',
  'vm.resume': 'Resume VM',
  'vm.save': 'Save VM',
  'vm.delete': 'Delete VM',
  'replication.enable': 'Enable replication',
  'replication.test-failover': 'Test failover',
  'replication.stop-test': 'Stop test failover',
  'replication.planned-failover': 'Planned failover',
  'replication.failover': 'Failover',
  'replication.complete-failover': 'Complete failover',
  'replication.cancel-failover': 'Cancel failover',
  'replication.reverse': 'Reverse replication',
  'replication.remove': 'Remove replication',
  'ha.recover-host': 'HA recovery',
  'mobility.migrate-vm': 'Migrate VM',
  'mobility.move-vm-storage': 'Move VM storage',
  'mobility.bring-back': 'Bring VMs back after maintenance',
  // The hosts' agents' steps of replication, migration and storage moves.
  'replica.accept': 'Replica: prepare host',
  'replica.cycle': 'Replica cycle',
  'replica.retain': 'Replica retention',
  'replica.test-failover': 'Replica: start test VM',
  'replica.stop-test': 'Replica: stop test VM',
  'replica.failover': 'Replica: fail over',
  'replica.commit': 'Replica: commit failover',
  'replica.revert': 'Replica: revert failover',
  'replica.remove': 'Replica: delete replica',
  'migration.prepare': 'Migration: prepare target',
  'migration.precopy': 'Migration: copy memory',
  'migration.final': 'Migration: final pass',
  'migration.activate': 'Migration: run on target',
  'migration.cleanup': 'Migration: clean up source',
  'migration.abort': 'Migration: abort',
  'migration.disks-receive': 'Migration: receive disks',
  'migration.disks-copy': 'Migration: copy disks',
  'migration.disks-handover': 'Migration: hand over disks',
  'migration.disks-abort': 'Migration: abort disk copy',
  'storage.copy': 'Storage move: copy disks',
  'storage.sync': 'Storage move: sync changes',
  'storage.switch': 'Storage move: switch disks',
  'storage.cleanup': 'Storage move: clean up',
  'storage.abort': 'Storage move: abort',
};

/** The Kind filter's groups, by kind prefix; `any` is the option for the whole group. */
export const KIND_GROUPS: readonly { prefix: string; label: string; any: string }[] = [
  { prefix: 'vm.', label: 'Virtual machines', any: 'Any VM action' },
  { prefix: 'replication.', label: 'Replication', any: 'Any replication operation' },
  { prefix: 'replica.', label: 'Replication on the hosts', any: 'Any replica host step' },
  { prefix: 'mobility.', label: 'Migration and storage moves', any: 'Any migration or storage move' },
  { prefix: 'migration.', label: 'Migration on the hosts', any: 'Any migration host step' },
  { prefix: 'storage.', label: 'Storage moves on the hosts', any: 'Any storage move host step' },
  { prefix: 'ha.', label: 'High availability', any: 'Any HA task' },
  { prefix: 'billing.', label: 'Billing', any: 'Any billing task' },
];

export function kindLabel(kind: string): string {
  const known = KIND_LABELS[kind];
  if (known) return known;
  const words = kind.replace(/[.-]/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Task';
}

export const STATE_LABELS: Record<TaskState, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const STATE_TONES: Record<TaskState, Tone> = {
  queued: 'neutral',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'amber',
};

export function isActive(state: TaskState): boolean {
  return state === 'queued' || state === 'running';
}

/** "November 2026" for a billing period's "2026-11"; anything else as given. */
export function targetText(task: Pick<TaskRecord, 'targetType' | 'targetLabel' | 'targetId'>): string {
  if (task.targetType === 'billing-period' && /^\d{4}-\d{2}$/.test(task.targetId)) {
    return new Date(`${task.targetId}-01T00:00:00Z`).toLocaleDateString('en-US', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
  }
  return task.targetLabel || task.targetId || '—';
}

/** Where a task's target lives in this area of the console, or null when it has no page there. */
export function targetHref(task: Pick<TaskRecord, 'targetType' | 'targetId'>, area: TaskArea): string | null {
  if (!task.targetId) return null;
  if (task.targetType === 'vm') return `/${area}/vms/${task.targetId}`;
  if (task.targetType === 'billing-period' && area === 'admin') {
    return `/admin/invoices?month=${encodeURIComponent(task.targetId)}`;
  }
  return null;
}

export function taskHref(id: string, area: TaskArea): string {
  return `/${area}/tasks/${id}`;
}

/** "0.4 s", "12 s", "3 min 5 s", "2 h 14 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
