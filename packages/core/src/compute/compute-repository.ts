import type { TenantScope } from '../shared/tenant-scope';
import type { AgentTask, TaskKind, VmSpec } from '../tasks/task-protocol.schema';
import type { ListVmsInput, Quota, Usage, VmDetail, VmRow, VmState } from './vm.schema';

export interface VmRecord {
  id: string;
  tenantId: string;
  name: string;
  state: VmState;
  hostId: string | null;
  clusterId: string | null;
  vcpus: number;
  memoryMiB: number;
  storageBytes: number;
}

export interface NewVm {
  tenantId: string;
  name: string;
  clusterId: string;
  hostId: string;
  spec: VmSpec;
  storageBytes: number;
  haPriority: 'high' | 'medium' | 'low' | 'off';
  tags: string[];
  groups: { name: string; kind: 'affinity' | 'anti-affinity'; hard: boolean }[];
}

export interface StoredDecision {
  tenantId: string;
  vmId: string | null;
  vmName: string;
  clusterId: string;
  hostId: string | null;
  hostName: string | null;
  policy: 'balance' | 'pack';
  seed: number;
  summary: string;
  request: unknown;
  trace: unknown;
}

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  vmId: string | null;
  hostId: string;
  tenantId: string | null;
}

export interface VmChangeEvent {
  vmId: string;
  tenantId: string;
  name: string;
  state: VmState | 'deleted';
  taskId: string | null;
  progress: number | null;
  message: string;
}

/** VM, quota, decision and task storage. Tenant reads take the scope first. */
export interface ComputeRepository {
  /** The tenant's quota row, locked until commit (created with the defaults if missing). */
  lockQuota(tenantId: string): Promise<Quota>;
  getQuota(tenantId: string): Promise<Quota>;
  tenantExists(tenantId: string): Promise<boolean>;
  setQuota(tenantId: string, quota: Quota): Promise<void>;
  usage(tenantId: string): Promise<Usage>;
  findVmByName(tenantId: string, name: string): Promise<{ id: string } | null>;
  createVm(vm: NewVm): Promise<VmRecord>;
  /** Many VMs (ids chosen by the caller) with their disks and NICs, in a few statements. */
  createVms(vms: (NewVm & { id: string })[]): Promise<void>;
  findVmNames(tenantId: string, names: string[]): Promise<string[]>;
  saveDecisions(decisions: StoredDecision[]): Promise<void>;
  createTasks(
    tasks: { kind: TaskKind; vmId: string; hostId: string; tenantId: string; requestedBy: string }[],
  ): Promise<void>;
  findVm(scope: TenantScope, id: string): Promise<VmRecord | null>;
  /** Locks the VM row until commit. */
  findVmForUpdate(scope: TenantScope, id: string): Promise<VmRecord | null>;
  findVmsByPattern(scope: TenantScope, pattern: RegExp): Promise<VmRecord[]>;
  setVmState(id: string, state: VmState, reason: string): Promise<void>;
  deleteVm(id: string): Promise<void>;
  meteringSince(id: string): Promise<Date | null>;
  resetMetering(id: string, at: Date): Promise<void>;
  vmSpec(id: string): Promise<VmSpec | null>;
  listVms(scope: TenantScope, query: ListVmsInput): Promise<{ rows: VmRow[]; total: number }>;
  getVmDetail(scope: TenantScope, id: string, showHost: boolean): Promise<VmDetail | null>;

  saveDecision(decision: StoredDecision): Promise<string>;
  findDecision(scope: TenantScope, id: string): Promise<(StoredDecision & { id: string; createdAt: Date }) | null>;

  createTask(task: {
    kind: TaskKind;
    vmId: string;
    hostId: string;
    tenantId: string;
    requestedBy: string;
  }): Promise<TaskRecord>;
  /** Hands out queued tasks (and ones whose lease ran out) to the host, leased until `leaseUntil`. */
  claimTasks(hostId: string, max: number, now: Date, leaseUntil: Date): Promise<(TaskRecord & { attempt: number })[]>;
  findTaskForUpdate(hostId: string, taskId: string): Promise<(TaskRecord & { progress: number }) | null>;
  updateTaskProgress(taskId: string, progress: number, message: string, leaseUntil: Date): Promise<void>;
  finishTask(
    taskId: string,
    state: 'succeeded' | 'failed',
    message: string,
    errorCode: string | null,
    now: Date,
  ): Promise<void>;

  notifyTasksQueued(hostId: string): Promise<void>;
  notifyVmChange(event: VmChangeEvent): Promise<void>;
}

export type { AgentTask };
