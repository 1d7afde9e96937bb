/**
 * How replication's workflows reach the agents: queue one `replica.*` task on
 * a host and wait for its terminal report. `taskId` is minted by the workflow
 * in a step of its own before the call, so a step run again after a crash
 * queues nothing new (the queue is idempotent on the id) and awaits the same
 * task. The adapter (apps/api) uses the agent task queue with params and
 * results (shared contract part 1); unit tests use a fake.
 */
export type ReplicaTaskKind =
  | 'replica.accept'
  | 'replica.cycle'
  | 'replica.retain'
  | 'replica.test-failover'
  | 'replica.stop-test'
  | 'replica.failover'
  | 'replica.commit'
  | 'replica.revert'
  | 'replica.remove'
  | 'vm.stop'
  | 'vm.start';

export interface ReplicaTaskRequest {
  readonly taskId: string;
  readonly hostId: string;
  readonly vmId: string;
  /** The VM's tenant, for a task about a VM that was deleted already (replica.remove after a delete). */
  readonly tenantId?: string;
  readonly kind: ReplicaTaskKind;
  readonly params: Record<string, unknown>;
  readonly timeoutMs: number;
}

/** A task that ended failed (or timed out): the agent's code, e.g. CHANGE_TRACKING_LOST. */
export class ReplicaTaskFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReplicaTaskFailed';
  }
}

export interface ReplicaAgentPort {
  /** Resolves with the task's result; throws ReplicaTaskFailed when it failed or timed out. */
  run(request: ReplicaTaskRequest): Promise<Record<string, unknown>>;
}

export interface CycleResult {
  pointId: string;
  bytesSent: number;
  bytesLogical: number;
  durationMs: number;
  disks: { name: string; sha256: string }[];
  guestWriteSeq: number | null;
  /** The guest quiesced for this point: application-consistent (false for a standard point or a failed quiesce). */
  appConsistent: boolean;
  /** The quiesce asked for an application-consistent point and how it went; null when none was asked. */
  quiesce: PointQuiesce | null;
}

/** How the guest's quiesce for an application-consistent point went (a failure falls back to a standard point). */
export interface PointQuiesce {
  status: 'quiesced' | 'failed' | 'timed-out';
  message: string;
}

function quiesceOf(v: unknown): PointQuiesce | null {
  if (typeof v !== 'object' || v === null) return null;
  const { status, message } = v as { status?: unknown; message?: unknown };
  if (status !== 'quiesced' && status !== 'failed' && status !== 'timed-out') return null;
  return { status, message: typeof message === 'string' ? message.slice(0, 500) : '' };
}

/** Reads an agent's replica.cycle result defensively (the agent's schema is its own). */
export function cycleResultOf(result: Record<string, unknown>, pointId: string): CycleResult {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const disks = Array.isArray(result.disks)
    ? result.disks
        .filter(
          (d): d is { name: string; sha256: string } => typeof d?.name === 'string' && typeof d?.sha256 === 'string',
        )
        .map((d) => ({ name: d.name, sha256: d.sha256 }))
    : [];
  return {
    pointId: typeof result.pointId === 'string' ? result.pointId : pointId,
    bytesSent: num(result.bytesSent),
    bytesLogical: num(result.bytesLogical),
    durationMs: num(result.durationMs),
    disks,
    guestWriteSeq: typeof result.guestWriteSeq === 'number' ? result.guestWriteSeq : null,
    appConsistent: result.appConsistent === true,
    quiesce: quiesceOf(result.quiesce),
  };
}

export function disksOf(result: Record<string, unknown>): { name: string; sha256: string }[] {
  return cycleResultOf(result, '').disks;
}
