import type { OwnershipRepository, StaleCopy, VmOwner } from '@fabric/core/compute/ownership';
import type { Db } from './prisma';

/** VM ownership epochs in SQL (packages/core/src/compute/ownership.ts): one compare-and-set statement per move. */
export class PrismaOwnershipRepository implements OwnershipRepository {
  constructor(private readonly db: Db) {}

  async ownerOf(vmId: string): Promise<VmOwner | null> {
    const rows = await this.db.$queryRaw<{ host_id: string | null; cluster_id: string | null; owner_epoch: number }[]>`
      SELECT host_id, cluster_id, owner_epoch FROM vms WHERE id = ${vmId}::uuid`;
    const row = rows[0];
    return row ? { vmId, hostId: row.host_id, clusterId: row.cluster_id, epoch: row.owner_epoch } : null;
  }

  async compareAndSetOwner(
    vmId: string,
    expectEpoch: number,
    to: { hostId: string; clusterId: string },
    at: Date,
  ): Promise<number | null> {
    const rows = await this.db.$queryRaw<{ owner_epoch: number }[]>`
      UPDATE vms SET host_id = ${to.hostId}::uuid, cluster_id = ${to.clusterId}::uuid,
                     owner_epoch = owner_epoch + 1, updated_at = ${at}
      WHERE id = ${vmId}::uuid AND owner_epoch = ${expectEpoch}
      RETURNING owner_epoch`;
    const next = rows[0]?.owner_epoch ?? null;
    if (next === null) return null;
    // The old owner is handed no more power operations for this VM (a delete, cleanup, stays); its reports
    // on tasks it was handed before are refused as stale.
    await this.db.$executeRaw`
      UPDATE tasks SET state = 'failed', error_code = 'STALE_EPOCH', finished_at = ${at}, lease_until = NULL,
                       message = 'The VM moved to another host (ownership epoch ' || ${next}::int || ')'
      WHERE vm_id = ${vmId}::uuid AND host_id <> ${to.hostId}::uuid AND state IN ('queued', 'running')
        AND kind LIKE 'vm.%' AND kind <> 'vm.delete'`;
    return next;
  }

  async staleCopies(hostId: string, held: readonly { vmId: string; epoch: number }[]): Promise<StaleCopy[]> {
    if (!held.length) return [];
    const ids = held.map((h) => h.vmId);
    const rows = await this.db.$queryRaw<{ id: string; host_id: string | null; owner_epoch: number }[]>`
      SELECT id, host_id, owner_epoch FROM vms WHERE id = ANY(${ids}::uuid[])`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const stale: StaleCopy[] = [];
    for (const copy of held) {
      const row = byId.get(copy.vmId);
      if (!row) {
        stale.push({ vmId: copy.vmId, epoch: copy.epoch, currentEpoch: 0, reason: 'deleted' });
      } else if (row.host_id !== hostId || (copy.epoch > 0 && row.owner_epoch > copy.epoch)) {
        // Epoch 0: the agent never heard one for this VM (it predates epochs); the host decides alone.
        stale.push({ vmId: copy.vmId, epoch: copy.epoch, currentEpoch: row.owner_epoch, reason: 'moved' });
      }
    }
    return stale;
  }
}
