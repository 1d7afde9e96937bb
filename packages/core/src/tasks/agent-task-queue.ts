import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import { vmEvent } from '../compute/vm-event';
import type { VmRepository } from '../compute/vm-repository';
import { stateAfterFailure, stateAfterSuccess, VM_TRANSITIONS } from '../compute/vm-state';
import type { Clock } from '../shared/clock';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { AgentTask, NextTasksRequest, TaskReport, TaskReportResponse } from './task-protocol.schema';
import type { TaskQueueRepository } from './task-queue-repository';

export interface AgentTaskQueueDeps {
  uow: UnitOfWork<{ taskQueue: TaskQueueRepository; vms: VmRepository; audit: AuditRepository }>;
  clock: Clock;
  /** How long a handed-out task is the host's before it is handed out again. */
  taskLeaseMs: number;
}

/**
 * The agent's side of the task queue (agent protocol v1, "Tasks"): a host
 * pulls its tasks, leased for `taskLeaseMs` (a host that dies mid-task has
 * it handed out again, with the next attempt number), reports progress
 * (which extends the lease) and the result, which moves the VM to its end state.
 */
export class AgentTaskQueue {
  constructor(private readonly deps: AgentTaskQueueDeps) {}

  /** Hands the host its queued tasks (leased), with the VM spec for creates. */
  async claimTasks(hostId: string, request: Pick<NextTasksRequest, 'max'>): Promise<AgentTask[]> {
    const { taskQueue, vms } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    const leaseUntil = new Date(now.getTime() + this.deps.taskLeaseMs);
    const claimed = await taskQueue.claimTasks(hostId, request.max, now, leaseUntil);
    const tasks: AgentTask[] = [];
    for (const task of claimed) {
      if (!task.vmId) continue;
      const spec = task.kind === 'vm.create' ? await vms.vmSpec(task.vmId) : null;
      tasks.push({ taskId: task.id, kind: task.kind, vmId: task.vmId, spec, attempt: task.attempt });
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
    return this.deps.uow.run(async ({ taskQueue, vms, audit }) => {
      const task = await taskQueue.findTaskForUpdate(host.id, taskId);
      if (!task) throw new ComputeError('TASK_NOT_FOUND', 'No such task for this host');
      if (task.state === 'succeeded' || task.state === 'failed') {
        return { accepted: report.status === task.state, cancel: false };
      }
      const vm = task.vmId ? await vms.findVmForUpdate({ kind: 'provider' }, task.vmId) : null;
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
      await taskQueue.finishTask(taskId, ok ? 'succeeded' : 'failed', report.message, ok ? null : report.code, now);
      if (vm) {
        const next = ok ? stateAfterSuccess(task.kind, report.vmState) : stateAfterFailure(task.kind, report.vmState);
        if (next === null) await vms.deleteVm(vm.id);
        else await vms.setVmState(vm.id, next, ok ? '' : `${task.kind} failed: ${report.message}`);
        await audit.append({
          actor: { type: 'agent', id: host.id, label: host.name },
          action: task.kind,
          targetType: 'vm',
          targetId: vm.id,
          targetLabel: vm.name,
          tenantId: vm.tenantId,
          result: ok ? 'success' : 'failure',
          message: ok
            ? `${vm.name}: ${task.kind} done`
            : `${vm.name}: ${task.kind} failed (${report.status === 'failed' ? report.code : ''}): ${report.message}`,
          details: { taskId },
        });
        await vms.notifyVmChange(vmEvent(vm, next ?? 'deleted', taskId, 100, report.message));
      }
      return { accepted: true, cancel: false };
    });
  }
}
