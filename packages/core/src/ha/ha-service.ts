import type { AuditRepository } from '../audit/audit-repository';
import { ComputeError } from '../compute/compute.errors';
import type { VmRepository } from '../compute/vm-repository';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import { formatSeconds } from '../shared/units';
import type { HaEventRow, HaRepository, HaRestartRow } from './ha-repository';
import {
  type HaPriority,
  type HaSettings,
  type HaSettingsPatch,
  haSettingsSchema,
  haSettingsViolations,
  readHaSettings,
} from './ha-settings';
import type { RecoverHost } from './recover-host';

function clusterNotFound(clusterId: string): ComputeError {
  return new ComputeError('CLUSTER_NOT_FOUND', `Cluster ${clusterId} not found`);
}

/** A VM being restarted after its host failed (HaService.vmRecovery). */
export interface VmRecovery {
  /**
   * fencing: the failed host is not fenced yet, nothing restarts; waiting-capacity: placed nowhere yet (or
   * waiting for its turn); restarting: starting on its new host.
   */
  state: 'fencing' | 'waiting-capacity' | 'restarting';
  eventId: string;
  /** The recovery's job (Tasks), provider only in practice: tenants do not see fabric jobs. */
  jobId: string | null;
  /** When the failure was detected. */
  since: Date;
  /** The failed host (null for tenants: the portal never names hosts). */
  failedHostName: string | null;
  /** The host it restarts on (restarting; null for tenants). */
  toHostName: string | null;
  /** Why it waits (placement's summary for the provider; a plain sentence for tenants). */
  reason: string;
}

/** A refused settings change: the rules it breaks. */
export class HaSettingsError extends ComputeError {
  constructor(readonly violations: { rule: string; message: string; fields: string[] }[]) {
    super('INVALID_HA_SETTINGS', violations.map((v) => v.message).join('; '));
  }
}

/** A VM's restart as the console shows it: with its tenant's name (null when the tenant is gone). */
export type HaRestartView = HaRestartRow & { tenantName: string | null };

export interface HaServiceDeps {
  uow: UnitOfWork<{ ha: HaRepository; vms: VmRepository; audit: AuditRepository }>;
  recover: RecoverHost;
  clock: { now(): Date };
  heartbeatIntervalMs: number;
  /** Forget cached settings after a change (the heartbeat channel's cache). */
  onSettingsChanged?: (clusterId: string) => void;
}

/** HA's use cases for people and the scheduler: settings, VM priority, the monitor pass, events. */
export class HaService {
  /** When this process began watching: no host is silent for longer than that (see HostMonitor). */
  private readonly watchingSince: Date;

  constructor(private readonly deps: HaServiceDeps) {
    this.watchingSince = deps.clock.now();
  }

  async settings(clusterId: string): Promise<HaSettings & { clusterId: string; heartbeatIntervalMs: number }> {
    const cluster = (await this.deps.uow.repos.ha.clusterSettings()).find((c) => c.id === clusterId);
    if (!cluster) throw clusterNotFound(clusterId);
    return { clusterId, heartbeatIntervalMs: this.deps.heartbeatIntervalMs, ...readHaSettings(cluster.haSettings) };
  }

  /** Changes some settings; refused whole (HaSettingsError, each rule broken) when the result breaks a rule. */
  async updateSettings(actor: Actor, clusterId: string, patch: HaSettingsPatch): Promise<HaSettings> {
    const current = await this.settings(clusterId);
    const { clusterId: _c, heartbeatIntervalMs: _h, ...rest } = current;
    const next = haSettingsSchema.parse({ ...rest, ...patch });
    const violations = haSettingsViolations(next, this.deps.heartbeatIntervalMs);
    if (violations.length) throw new HaSettingsError(violations);
    await this.deps.uow.run(async ({ ha, audit }) => {
      await ha.setClusterSettings(clusterId, next);
      await audit.append({
        actor,
        action: 'cluster.ha-settings',
        targetType: 'cluster',
        targetId: clusterId,
        result: 'success',
        message: `HA ${next.enabled ? 'on' : 'off'}: detection ${formatSeconds(next.detectionTimeoutMs)}, isolation ${formatSeconds(next.isolationTimeoutMs)} (${next.isolationResponse}), fencing ${formatSeconds(next.fencingTimeoutMs)} (${next.fenceMethod})`,
        details: { ...patch },
      });
    });
    this.deps.onSettingsChanged?.(clusterId);
    return next;
  }

  /** A VM's HA priority (portal: the tenant's own VMs; admin: any). */
  async setVmPriority(actor: Actor, scope: TenantScope, vmId: string, priority: HaPriority): Promise<void> {
    await this.deps.uow.run(async ({ ha, vms, audit }) => {
      const vm = await vms.findVmForUpdate(scope, vmId);
      if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
      await ha.setVmPriority(vmId, priority);
      await audit.append({
        actor,
        action: 'vm.ha-priority',
        targetType: 'vm',
        targetId: vmId,
        targetLabel: vm.name,
        tenantId: vm.tenantId,
        result: 'success',
        message: `${vm.name}: HA priority ${priority}`,
        details: { priority },
      });
    });
  }

  /**
   * One monitor pass (scheduled, once across API processes): in every cluster with HA on, a host
   * silent for the detection timeout opens a failure event and its recovery starts. The second
   * channel tells a dead host (no peer saw its shared heartbeat since) from one cut off (peers did).
   */
  async monitorTick(): Promise<string[]> {
    const { ha } = this.deps.uow.repos;
    const now = this.deps.clock.now();
    const opened: string[] = [];
    // An event whose recovery never started (the process died between the two): start it (once, by its id).
    for (const e of await ha.listEvents(null, 50)) {
      if (e.state === 'detected' && now.getTime() - e.detectedAt.getTime() > 5000)
        await this.deps.recover.ensureStarted(e.id);
      // VMs still waiting for capacity after their recovery handed them over: keep retrying them.
      if (e.state === 'waiting-capacity') await this.deps.recover.resumeWaiting(e);
    }
    for (const cluster of await ha.clusterSettings()) {
      const settings = readHaSettings(cluster.haSettings);
      if (!settings.enabled) continue;
      const cutoff = new Date(now.getTime() - settings.detectionTimeoutMs);
      // Just (re)started: hosts have not had a detection timeout to reach this process yet.
      if (this.watchingSince > cutoff) continue;
      for (const host of await ha.silentHosts(cluster.id, cutoff)) {
        if (await ha.hasOpenEvent(host.id)) continue;
        const last = host.lastHeartbeatAt ?? host.registeredAt;
        // One failure, one event: a host still silent after its recovery ended opens nothing new.
        const handled = await ha.lastEventHeartbeat(host.id);
        if (handled && handled.getTime() >= last.getTime()) continue;
        // Hysteresis: a host that a peer saw after its last heartbeat is alive but cut off.
        const peerFresh = host.peerSeenAt && host.peerSeenAt.getTime() > last.getTime() + this.deps.heartbeatIntervalMs;
        const diagnosis: HaEventRow['diagnosis'] =
          host.peerSeenAt === null ? 'unknown' : peerFresh ? 'isolated' : 'dead';
        const silentMs = now.getTime() - last.getTime();
        const id = await this.deps.recover.open(
          { id: host.id, name: host.name, clusterId: cluster.id, lastHeartbeatAt: last },
          settings,
          diagnosis,
          `${host.name} silent for ${(silentMs / 1000).toFixed(1)} s (detection timeout ${formatSeconds(settings.detectionTimeoutMs)}); ` +
            (diagnosis === 'isolated'
              ? 'its peers still see its shared heartbeat: alive but cut off (isolated)'
              : diagnosis === 'dead'
                ? 'its peers no longer see its shared heartbeat either: down'
                : 'no second channel to tell down from cut off'),
        );
        if (id) opened.push(id);
      }
    }
    return opened;
  }

  /** A cluster's failure events (all clusters' with null); a cluster that does not exist is CLUSTER_NOT_FOUND, not []. */
  async events(clusterId: string | null, limit = 20): Promise<(HaEventRow & { restarts: HaRestartView[] })[]> {
    const { ha } = this.deps.uow.repos;
    if (clusterId !== null && !(await ha.clusterSettings()).some((c) => c.id === clusterId)) {
      throw clusterNotFound(clusterId);
    }
    const events = await ha.listEvents(clusterId, limit);
    const restarts = await Promise.all(events.map((e) => ha.restarts(e.id)));
    const named = await this.naming(restarts.flat());
    return events.map((e, i) => ({ ...e, restarts: (restarts[i] ?? []).map(named) }));
  }

  /** Adds each restart's tenant's name (one query): two tenants may each have a VM of the same name. */
  private async naming(restarts: HaRestartRow[]): Promise<(r: HaRestartRow) => HaRestartView> {
    const ids = [...new Set(restarts.map((r) => r.tenantId))];
    const names = ids.length ? await this.deps.uow.repos.ha.tenantNames(ids) : new Map<string, string>();
    return (r) => ({ ...r, tenantName: names.get(r.tenantId) ?? null });
  }

  /**
   * Is the VM being restarted after its host failed? Its open restart (waiting for capacity, or restarting
   * on a host) with the failure event it belongs to; null when none. Tenants see their own VMs only
   * (VM_NOT_FOUND otherwise) and, as everywhere in the portal, no host names nor placement's numbers.
   */
  async vmRecovery(scope: TenantScope, vmId: string): Promise<VmRecovery | null> {
    const { ha, vms } = this.deps.uow.repos;
    const vm = await vms.findVm(scope, vmId);
    if (!vm) throw new ComputeError('VM_NOT_FOUND', 'VM not found');
    const r = await ha.openRestartOf(vmId);
    if (!r) return null;
    // Running on its new host: over for the VM's page, though the recovery records it on its next round.
    if (r.state === 'restarting' && vm.state === 'running' && vm.hostId === r.toHostId) return null;
    const state: VmRecovery['state'] =
      r.state === 'restarting' ? 'restarting' : r.fencedAt === null ? 'fencing' : 'waiting-capacity';
    const provider = scope.kind === 'provider';
    const reason = {
      fencing: provider
        ? `nothing restarts until ${r.hostName} is fenced (it then cannot run the VM any more)`
        : 'nothing restarts until its host is fenced (it then cannot run the VM any more)',
      'waiting-capacity': provider
        ? r.reason || 'waiting for its turn, by priority'
        : 'no host has room for it yet; it starts as soon as one does',
      restarting: '',
    }[state];
    return {
      state,
      eventId: r.eventId,
      jobId: r.jobId,
      since: r.detectedAt,
      failedHostName: provider ? r.hostName : null,
      toHostName: provider && state === 'restarting' ? (r.toHostName ?? null) : null,
      reason,
    };
  }

  async event(id: string): Promise<HaEventRow & { restarts: HaRestartView[] }> {
    const { ha } = this.deps.uow.repos;
    const event = await ha.findEvent(id);
    if (!event) throw new ComputeError('HA_EVENT_NOT_FOUND', `HA event ${id} not found`);
    const restarts = await ha.restarts(id);
    return { ...event, restarts: restarts.map(await this.naming(restarts)) };
  }
}
