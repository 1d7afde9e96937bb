import { ComputeError } from './compute.errors';

/**
 * VM ownership epochs (docs/high-availability.md, "Ownership that cannot fork").
 *
 * Every VM row carries `owner_epoch`. Whoever moves a VM to another host
 * (an HA restart, the end of a live migration, a replica failover) does it
 * with ONE call, `transferOwnership`, a compare-and-set on the epoch: it
 * succeeds only when the epoch is still the one the caller read, so two
 * movers racing for one VM cannot both win. The winner gets the new epoch.
 *
 * Every agent task for a VM carries the epoch it was queued under (the API
 * fills it in at queue time when the caller does not), the agent records the
 * highest epoch it saw per VM, and:
 * - a task report under an older epoch than the VM's is refused
 *   (`STALE_EPOCH`, HTTP 409 on the agent protocol);
 * - a host that reports holding a VM it no longer owns (an older epoch, or
 *   the VM now on another host) is answered "discard this VM" and never
 *   starts it again.
 */
export interface VmOwner {
  vmId: string;
  hostId: string | null;
  clusterId: string | null;
  epoch: number;
}

/** A VM a host still holds but no longer owns: the host must discard its copy. */
export interface StaleCopy {
  vmId: string;
  /** The epoch the host reported. */
  epoch: number;
  /** The VM's epoch now (0 when the VM no longer exists). */
  currentEpoch: number;
  reason: 'moved' | 'deleted';
}

export interface OwnershipRepository {
  /** The VM's owner and epoch, or null when it does not exist. Inside a unit of work it reads the current row. */
  ownerOf(vmId: string): Promise<VmOwner | null>;
  /**
   * One statement: `UPDATE vms SET host_id, cluster_id, owner_epoch = owner_epoch + 1
   * WHERE id = vmId AND owner_epoch = expectEpoch RETURNING owner_epoch`; null when
   * no row matched (the epoch moved, or the VM is gone). Also fails every queued or
   * running task of the VM on other hosts (`STALE_EPOCH`), so the old host is
   * handed nothing more for it.
   */
  compareAndSetOwner(
    vmId: string,
    expectEpoch: number,
    to: { hostId: string; clusterId: string },
    at: Date,
  ): Promise<number | null>;
  /**
   * Of the VMs a host says it holds (with the epochs it recorded), those it
   * no longer owns: the VM is gone, is on another host, or has a newer epoch
   * (an epoch of 0 means the agent never heard one: only the host decides).
   */
  staleCopies(hostId: string, held: readonly { vmId: string; epoch: number }[]): Promise<StaleCopy[]>;
}

export interface TransferOwnership {
  toHostId: string;
  toClusterId: string;
  /** The epoch the caller read when it decided to move the VM. */
  expectEpoch: number;
  /** When (the injected clock's now). */
  at: Date;
}

/** `ComputeError('STALE_EPOCH')`: the VM's ownership moved since the caller read it. */
export function staleEpoch(vmId: string, expected: number, current: number | null): ComputeError {
  return new ComputeError(
    'STALE_EPOCH',
    current === null
      ? `VM ${vmId} no longer exists`
      : `VM ${vmId} is at ownership epoch ${current}, not ${expected}: another host owns it now`,
  );
}

/**
 * Moves a VM to `toHostId` if its epoch is still `expectEpoch`; returns the new
 * epoch. Throws STALE_EPOCH (nothing written) when someone moved it first.
 * Call it inside the unit of work that also queues the VM's start on the new
 * host, so the move and the task commit together.
 */
export async function transferOwnership(
  repo: OwnershipRepository,
  vmId: string,
  move: TransferOwnership,
): Promise<number> {
  const next = await repo.compareAndSetOwner(
    vmId,
    move.expectEpoch,
    { hostId: move.toHostId, clusterId: move.toClusterId },
    move.at,
  );
  if (next !== null) return next;
  const now = await repo.ownerOf(vmId);
  throw staleEpoch(vmId, move.expectEpoch, now?.epoch ?? null);
}

/** True when a task queued under `taskEpoch` may no longer act on a VM at `currentEpoch`. */
export function isStaleEpoch(taskEpoch: number | null | undefined, currentEpoch: number): boolean {
  return taskEpoch !== null && taskEpoch !== undefined && taskEpoch < currentEpoch;
}
