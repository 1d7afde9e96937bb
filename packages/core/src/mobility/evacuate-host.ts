/**
 * Maintenance that evacuates (issue 12): the plan comes from the placement
 * engine on a working copy of the cluster in which the host is in maintenance
 * (so nothing lands on it), VMs placed largest first with the balance profile
 * (spread over the hosts, not piled on one) and each move committed before the
 * next is planned, so affinity, anti-affinity, dedication, VM limits and
 * capacity hold for the whole plan. VMs that fit nowhere are listed with the
 * engine's reason. Carrying it out: the host goes into maintenance (it takes
 * no new work), then each VM is migrated through MigrateVm (running ones live,
 * off/saved ones cold), queued under the per-host and per-cluster caps.
 */
import { PlacementSession } from '../placement/place';
import type { PlacementStore } from '../placement/placement-store';
import { balanceProfile } from '../placement/profiles';
import type { ClusterSnapshot } from '../placement/snapshot';
import type { VmOnHost } from '../placement/what-if';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { describeEvacuation } from './evacuation-summary';
import { explainBestMove } from './explain-best-move';
import type { MigrateVm } from './migrate-vm';
import { MobilityError } from './mobility.errors';

export interface EvacuationMove {
  readonly vmId: string;
  readonly vmName: string;
  readonly toHostId: string;
  readonly toHostName: string;
  readonly memoryMiB: number;
  /** The engine's words for this choice. */
  readonly explanation: string;
}

export interface EvacuationPlan {
  readonly hostId: string;
  readonly hostName: string;
  readonly moves: readonly EvacuationMove[];
  readonly unmovable: readonly { vmId: string; vmName: string; reason: string }[];
  /** Target host name → VMs it receives (the spread, at a glance). */
  readonly perTarget: Readonly<Record<string, number>>;
  /** "Evacuate first: 2 VMs move, 1 cannot", or "No VMs on this host: nothing to evacuate". */
  readonly heading: string;
  /** When none of its VMs can move, the line that says so (null otherwise). */
  readonly nothingMoves: string | null;
}

/** Pure: the plan on a snapshot. */
export function planEvacuation(
  cluster: ClusterSnapshot,
  hostId: string,
  vms: readonly VmOnHost[],
  seed = 1,
): EvacuationPlan {
  const host = cluster.hosts.find((h) => h.id === hostId);
  if (!host) throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No host ${hostId} in cluster ${cluster.name}`);
  const working: ClusterSnapshot = {
    ...cluster,
    hosts: cluster.hosts.map((h) => (h.id === hostId ? { ...h, state: 'maintenance' as const } : h)),
  };
  const session = new PlacementSession(working, { seed, profile: balanceProfile, trace: 'summary', topCandidates: 1 });
  const mine = vms
    .filter((v) => v.currentHostId === hostId)
    .sort((a, b) => b.request.memoryMiB - a.request.memoryMiB || a.request.name.localeCompare(b.request.name));
  const moves: EvacuationMove[] = [];
  const unmovable: { vmId: string; vmName: string; reason: string }[] = [];
  const perTarget: Record<string, number> = {};
  for (const { request } of mine) {
    const decision = session.place(request);
    if (!decision.hostId) {
      // The evacuated host is in maintenance only on the working copy: count the other hosts only.
      unmovable.push({ vmId: request.vmId ?? '', vmName: request.name, reason: explainBestMove(decision, hostId) });
      continue;
    }
    session.commit(request, decision.hostId);
    const name = decision.hostName ?? decision.hostId;
    perTarget[name] = (perTarget[name] ?? 0) + 1;
    moves.push({
      vmId: request.vmId ?? '',
      vmName: request.name,
      toHostId: decision.hostId,
      toHostName: name,
      memoryMiB: request.memoryMiB,
      explanation: explainBestMove(decision, hostId),
    });
  }
  return { hostId, hostName: host.name, moves, unmovable, perTarget, ...describeEvacuation({ moves, unmovable }) };
}

export interface EvacuateHostDeps {
  placement: PlacementStore;
  migrate: MigrateVm;
  /** Puts the host into (or out of) maintenance: it takes no new work (fabric's hosts.setMaintenance). */
  setMaintenance: (actor: Actor, hostId: string, enabled: boolean, reason: string) => Promise<unknown>;
  seed?: () => number;
}

export class EvacuateHost {
  constructor(private readonly deps: EvacuateHostDeps) {}

  async preview(hostId: string): Promise<EvacuationPlan> {
    const clusterId = await this.deps.placement.clusterOfHost(hostId);
    if (!clusterId) throw new MobilityError('MIGRATION_TARGET_NOT_FOUND', `No host ${hostId}`);
    const [cluster, vms] = await Promise.all([
      this.deps.placement.clusterSnapshot(clusterId),
      this.deps.placement.vmsInCluster(clusterId),
    ]);
    return planEvacuation(cluster, hostId, vms, this.deps.seed?.() ?? 1);
  }

  /**
   * Maintenance now, then one migration per planned move. A move refused when it
   * is requested (the VM is mid-operation, already migrating, ...) joins the
   * unmovable list with the refusal's reason.
   */
  async evacuate(actor: Actor, scope: TenantScope, hostId: string): Promise<EvacuationPlan & { taskIds: string[] }> {
    const plan = await this.preview(hostId);
    await this.deps.setMaintenance(actor, hostId, true, 'evacuating for maintenance');
    const taskIds: string[] = [];
    const unmovable = [...plan.unmovable];
    for (const move of plan.moves) {
      try {
        const { taskId } = await this.deps.migrate.request(actor, scope, {
          vmId: move.vmId,
          to: move.toHostId,
          // Recorded so that leaving maintenance can bring it back (bring-back-vms.ts).
          origin: { kind: 'evacuation', hostId },
        });
        taskIds.push(taskId);
      } catch (error) {
        unmovable.push({
          vmId: move.vmId,
          vmName: move.vmName,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return { ...plan, unmovable, taskIds, ...describeEvacuation({ moves: plan.moves, unmovable }) };
  }
}
