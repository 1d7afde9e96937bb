import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import { isStaleEpoch, type OwnershipRepository, staleEpoch } from '../compute/ownership';
import { vmEvent } from '../compute/vm-event';
import type { VmRepository } from '../compute/vm-repository';
import { stateAfterFailure, stateAfterSuccess, VM_TRANSITIONS } from '../compute/vm-state';
import type { Clock } from '../shared/clock';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { AgentTask, NextTasksRequest, TaskKind, TaskReport, TaskReportResponse } from './task-protocol.schema';
import type { TaskQueueRepository } from './task-queue-repository';

export interface AgentTaskQueueDeps {
  uow: UnitOfWork<{
    taskQueue: TaskQueueRepository;
    vms: VmRepository;
    audit: AuditRepository;
    /** Ownership epochs: a report under an older epoch than the VM's is refused (STALE_EPOCH). */
    ownership?: OwnershipRepository;
  }>;
  clock: Clock;
  /** How long a handed-out task is the host's before it is handed out again. */
  taskLeaseMs: number;
  /**
   * Called once a VM's row is gone (its host confirmed vm.delete), after the commit: what hangs off the VM
   * elsewhere goes too (its replica: ReplicationService.removeAfterVmDeleted). Its failure does not undo the delete.
   */
  onVmDeleted?: (vmId: string) => Promise<unknown>;
}

/**
 * How long after a hand-out (or a lease renewal) a task missing from the host's poll counts as lost: longer
 * than a poll answer takes to arrive, so a task handed out by a poll still in flight is not handed out twice.
 */
export const LOST_AFTER_MS = 5_000;

/**
 * The agent's side of the task queue (agent protocol v1, "Tasks"): a host
 * pulls its tasks, leased for `taskLeaseMs` (a host that dies mid-task has
 * it handed out again, with the next attempt number), reports progress
 * (which extends the lease) and the result, which moves the VM to its end state.
 */
export class AgentTaskQueue {
  constructor(private readonly deps: AgentTaskQueueDeps) {}

  /**
   * Hands the host its queued tasks (leased), with the VM spec for creates. A task the host's poll says it
   * does not hold, handed out (or renewed) over `LOST_AFTER_MS` ago, was lost with the answer that carried
   * it (an API process killed mid-answer, a dropped connection): it goes out again at once, with the next
   * attempt number, instead of after the rest of its 60 s lease (a resumed HA restart waited that long).
   */
  async claimTasks(hostId: string, request: Pick<NextTasksRequest, 'max' | 'holding'>): Promise<AgentTask[]> {
    const { taskQueue, vms } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    const leaseUntil = new Date(now.getTime() + this.deps.taskLeaseMs);
    const lost = request.holding
      ? { holding: request.holding, setBefore: new Date(leaseUntil.getTime() - LOST_AFTER_MS) }
      : null;
    const claimed = await taskQueue.claimTasks(hostId, request.max, now, leaseUntil, lost);
    const tasks: AgentTask[] = [];
    for (const task of claimed) {
      if (!task.vmId) continue;
      const spec = task.kind === 'vm.create' ? await vms.vmSpec(task.vmId) : null;
      tasks.push({
        taskId: task.id,
        kind: task.kind,
        vmId: task.vmId,
        spec,
        attempt: task.attempt,
        params: task.params,
        ...(task.ownerEpoch != null ? { epoch: task.ownerEpoch } : {}),
      });
    }
    return tasks;
  }

  /**
   * A host's report on its task. Reports are idempotent: a repeated final
   * report changes nothing, so an agent may resend until it hears back; a
   * final report that contradicts the stored result is not accepted.
   */
  async reportTask(
    host: { id: string; name: string },
    taskId: string,
    report: TaskReport,
  ): Promise<TaskReportResponse> {
    const now = this.deps.clock.now();
    let deletedVmId: string | null = null;
    const response = await this.deps.uow.run(async ({ taskQueue, vms, audit, ownership }) => {
      const task = await taskQueue.findTaskForUpdate(host.id, taskId);
      if (!task) throw new ComputeError('TASK_NOT_FOUND', 'No such task for this host');
      if (ownership && task.vmId && task.ownerEpoch != null) {
        // A report on a task handed out before the VM moved (HA restart, migration, failover) is not heard: 409.
        const owner = await ownership.ownerOf(task.vmId);
        if (owner && isStaleEpoch(task.ownerEpoch, owner.epoch)) {
          throw staleEpoch(task.vmId, task.ownerEpoch, owner.epoch);
        }
      }
      if (task.state === 'succeeded' || task.state === 'failed') {
        return { accepted: report.status === task.state, cancel: false };
      }
      // Only vm.* tasks move the VM's state; other kinds (replica.*, ...) belong to the workflow that queued them,
      // which reads their result and decides.
      const vmTask = isVmTask(task.kind);
      const vm = vmTask && task.vmId ? await vms.findVmForUpdate({ kind: 'provider' }, task.vmId) : null;
      if (report.status === 'running') {
        const leaseUntil = new Date(now.getTime() + this.deps.taskLeaseMs);
        await taskQueue.updateTaskProgress(taskId, report.progress, report.message, leaseUntil);
        // A create keeps showing `creating` until it is done; other tasks show their transitional state.
        const during = Object.values(VM_TRANSITIONS).find((t) => t.task === task.kind)?.during ?? null;
        if (vm && during && vm.state !== during && vm.state !== 'creating') await vms.setVmState(vm.id, during, '');
        if (vm) {
          const shown = during && vm.state !== 'creating' ? during : vm.state;
          await vms.notifyVmChange(vmEvent(vm, shown, taskId, report.progress, report.message));
        }
        return { accepted: true, cancel: false };
      }
      const ok = report.status === 'succeeded';
      await taskQueue.finishTask(
        taskId,
        ok ? 'succeeded' : 'failed',
        report.message,
        ok ? null : report.code,
        now,
        report.status === 'succeeded' ? (report.result ?? null) : null,
      );
      // Results are delivered in parallel: a create's "off" arriving after its start's "running" is history.
      const stale = vm ? await taskQueue.newerVmTaskFinished(taskId) : false;
      if (vm) {
        let message: string;
        let next: ReturnType<typeof stateAfterSuccess> | undefined;
        if (stale) {
          message = `${vm.name}: ${task.kind} ${ok ? 'done' : 'failed'} (reported after a later task; the VM's state is that task's)`;
        } else {
          next = ok ? stateAfterSuccess(task.kind, report.vmState) : stateAfterFailure(task.kind, report.vmState);
          if (next === null) {
            await vms.deleteVm(vm.id);
            deletedVmId = vm.id;
          } else await vms.setVmState(vm.id, next, ok ? '' : `${task.kind} failed: ${report.message}`);
          message = ok
            ? `${vm.name}: ${task.kind} done`
            : `${vm.name}: ${task.kind} failed (${report.status === 'failed' ? report.code : ''}): ${report.message}`;
        }
        await audit.append({
          actor: { type: 'agent', id: host.id, label: host.name },
          action: task.kind,
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId: vm.tenantId,
          result: ok ? 'success' : 'failure',
          message,
          details: { taskId },
        });
        // A stale report changes no state, so there is nothing to tell watchers.
        if (next !== undefined) await vms.notifyVmChange(vmEvent(vm, next ?? 'deleted', taskId, 100, report.message));
      }
      return { accepted: true, cancel: false };
    });
    if (deletedVmId && this.deps.onVmDeleted) {
      // The agent's report is recorded whatever happens here; the hook reports its own failures (a failed job).
      await this.deps.onVmDeleted(deletedVmId).catch(() => undefined);
    }
    return response;
  }
}

/** vm.create … vm.delete: tasks whose report moves the VM's power state (stateAfterSuccess / stateAfterFailure). */
export function isVmTask(kind: TaskKind): boolean {
  return kind.startsWith('vm.');
}
