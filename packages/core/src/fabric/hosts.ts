import type { Actor } from '../shared/tenant-scope';
import { FabricError } from './fabric.errors';
import type { HostDetail, ListHostsInput } from './fabric.schema';
import { changeEvent, type FabricServiceDeps } from './fabric-deps';
import { type HostState, stateAfterMaintenance } from './host-state';

/** The admin's side of hosts: listing, detail, maintenance, dedication, removal. */
export class Hosts {
  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  listHosts(query: ListHostsInput) {
    return this.repos.fabric.listHosts(query);
  }

  async getHost(id: string): Promise<HostDetail> {
    const detail = await this.repos.fabric.getHostDetail(id);
    if (!detail) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
    // An agent reports its inventory whenever it changes (a VM created, a disk grown): those would push
    // everything else off the list. The latest one shows; the rest are in the audit log.
    const [others, inventory] = await Promise.all([
      this.repos.audit.listForTarget('host', id, 50, { exceptActions: ['host.inventory'] }),
      this.repos.audit.listForTarget('host', id, 1, { actions: ['host.inventory'] }),
    ]);
    const events = [...others, ...inventory].sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, 50);
    return { ...detail, events };
  }

  async setMaintenance(actor: Actor, id: string, enabled: boolean, reason: string | undefined): Promise<HostState> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      if (enabled === (host.state === 'maintenance')) {
        throw new FabricError(
          'INVALID_STATE',
          enabled ? `${host.name} is already in maintenance` : `${host.name} is not in maintenance`,
        );
      }
      const next = enabled
        ? 'maintenance'
        : stateAfterMaintenance(host.lastHeartbeatAt ?? host.registeredAt, now, this.deps.policy);
      const changed = await fabric.setState({
        hostId: id,
        from: host.state,
        to: next,
        at: now,
        maintenanceReason: enabled ? reason || null : null,
      });
      if (!changed) throw new FabricError('INVALID_STATE', `${host.name} changed state meanwhile; try again`);
      await audit.append({
        actor,
        action: enabled ? 'host.maintenance.enter' : 'host.maintenance.exit',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        result: 'success',
        message: `${host.name}: ${host.state} → ${next}${enabled && reason ? ` (${reason})` : ''}`,
        details: { from: host.state, to: next },
      });
      await fabric.notifyHostChange({ ...changeEvent(host, 'state'), state: next });
      return next;
    });
  }

  /** Removes the host and, with it, its credential: its agent is refused from now on. */
  async removeHost(actor: Actor, id: string): Promise<void> {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      // Removing a host must not orphan VMs (they would keep running with no host on record).
      const vms = await fabric.countVmsOnHost(id);
      if (vms > 0) {
        throw new FabricError(
          'INVALID_STATE',
          `${host.name} still has ${vms} VM${vms === 1 ? '' : 's'}: move or delete ${vms === 1 ? 'it' : 'them'} first`,
        );
      }
      await fabric.deleteHost(id);
      await audit.append({
        actor,
        action: 'host.remove',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        result: 'success',
        details: { clusterId: host.clusterId, lastState: host.state },
      });
      await fabric.notifyHostChange(changeEvent(host, 'removed'));
    });
  }

  overview() {
    return this.repos.fabric.overview();
  }

  /** Dedicates a host to one tenant (only its VMs are placed there), or shares it again. */
  async setDedication(actor: Actor, id: string, tenantId: string | null) {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      if (tenantId && !(await fabric.tenantExists(tenantId))) {
        throw new FabricError('INVALID_STATE', 'That tenant does not exist');
      }
      await fabric.setDedication(id, tenantId);
      await audit.append({
        actor,
        action: 'host.dedication',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        tenantId,
        result: 'success',
        message: tenantId ? `${host.name} dedicated to a tenant` : `${host.name} shared again`,
      });
    });
  }
}
