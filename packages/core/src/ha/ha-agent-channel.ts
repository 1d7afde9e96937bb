import type { OwnershipRepository } from '../compute/ownership';
import type { Clock } from '../shared/clock';
import type { HaHeartbeat, HaHeartbeatAnswer } from './ha-protocol.schema';
import { type HaSettings, readHaSettings } from './ha-settings';

/** What the agent channel reads and writes. */
export interface HaAgentRepository {
  /** The host's cluster and that cluster's stored HA settings (raw JSON), or null for an unknown host. */
  hostCluster(hostId: string): Promise<{ clusterId: string; haSettings: unknown } | null>;
  /**
   * The second channel: `observer` saw these peers' shared heartbeats at these times
   * (and some of them say they fenced themselves). Only peers of the same cluster are
   * updated; a time never moves back.
   */
  recordPeerSightings(
    observerId: string,
    clusterId: string,
    sightings: { hostId: string; seenAt: Date; fencedAt: Date | null }[],
  ): Promise<void>;
  /** The host itself says it applied its isolation response at `at` (reported when it is back). */
  recordSelfFenced(hostId: string, at: Date): Promise<void>;
  /**
   * True while the host has a failure event that is not cancelled and not over, or that ended after `since`:
   * its VMs may be moving elsewhere (restarts by priority, waits for capacity), so it lists the VMs it holds
   * in every heartbeat and is told to discard each one as soon as it moved, not at its next outage.
   */
  hostRecovering(hostId: string, since: Date): Promise<boolean>;
}

export interface HaAgentChannelDeps {
  repos: { ha: HaAgentRepository; ownership: OwnershipRepository };
  clock: Clock;
  /** How long a cluster's settings are kept before they are read again (the heartbeat is a hot path). */
  settingsTtlMs?: number;
  /**
   * How long after a failure event of the host ended it still lists its VMs in every heartbeat (default
   * 60 s, several heartbeat intervals): the last restarts' moves are seen even by a slow heartbeat.
   */
  recheckAfterEventMs?: number;
  /**
   * The host's isolation response stopped these VMs (it says so when it is back): start again the ones it
   * still owns, when nothing restarted them elsewhere (RecoverHost.restartIsolationStopped).
   */
  restartIsolationStopped?: (hostId: string, stopped: { vmId: string; epoch: number }[]) => Promise<unknown>;
}

/**
 * The HA half of a heartbeat (agent protocol, "High availability"): tells the
 * agent its cluster's isolation settings and which of the VMs it holds it must
 * discard (ownership moved while it was away), and records what it saw of its
 * peers through the shared heartbeat directory.
 */
export class HaAgentChannel {
  private readonly cache = new Map<string, { at: number; clusterId: string; settings: HaSettings }>();

  constructor(private readonly deps: HaAgentChannelDeps) {}

  async onHeartbeat(hostId: string, ha: HaHeartbeat | undefined): Promise<HaHeartbeatAnswer | undefined> {
    const cluster = await this.clusterOf(hostId);
    if (!cluster) return undefined;
    const now = this.deps.clock.now();
    if (ha?.peers?.length) {
      await this.deps.repos.ha.recordPeerSightings(
        hostId,
        cluster.clusterId,
        ha.peers
          .filter((p) => p.hostId !== hostId)
          .map((p) => ({
            hostId: p.hostId,
            seenAt: new Date(now.getTime() - p.ageMs),
            fencedAt: p.fencedAgeMs === null ? null : new Date(now.getTime() - p.fencedAgeMs),
          })),
      );
    }
    if (typeof ha?.isolatedAt === 'number' && cluster.settings.isolationResponse !== 'keep-running') {
      await this.deps.repos.ha.recordSelfFenced(hostId, new Date(ha.isolatedAt));
    }
    const discard = ha?.vms?.length ? await this.deps.repos.ownership.staleCopies(hostId, ha.vms) : [];
    // Only with the isolation it reports (isolatedAt), in a cluster whose response stops VMs: a claim alone
    // starts nothing (restartIsolationStopped also takes only VMs the control plane still has as running).
    if (
      ha?.isolationStopped?.length &&
      typeof ha.isolatedAt === 'number' &&
      cluster.settings.enabled &&
      cluster.settings.isolationResponse !== 'keep-running' &&
      this.deps.restartIsolationStopped
    ) {
      const moved = new Set(discard.map((d) => d.vmId));
      const kept = ha.isolationStopped.filter((vm) => !moved.has(vm.vmId));
      if (kept.length) await this.deps.restartIsolationStopped(hostId, kept);
    }
    // A host heard from while (or just after) its VMs are restarted elsewhere: it lists its VMs in every
    // heartbeat, so a copy whose ownership moves after it came back is discarded at once, not at its next
    // outage (it already listed them once after the silence, before they moved).
    const recovering = await this.deps.repos.ha.hostRecovering(
      hostId,
      new Date(now.getTime() - (this.deps.recheckAfterEventMs ?? 60_000)),
    );
    return {
      clusterId: cluster.clusterId,
      enabled: cluster.settings.enabled,
      isolationTimeoutMs: cluster.settings.isolationTimeoutMs,
      isolationResponse: cluster.settings.isolationResponse,
      discard: discard.map((d) => ({ vmId: d.vmId, currentEpoch: d.currentEpoch, reason: d.reason })),
      ...(recovering ? { listVms: true } : {}),
    };
  }

  /** Forget cached settings (after an admin changes them, in this process). */
  forget(clusterId?: string): void {
    for (const [hostId, entry] of this.cache)
      if (!clusterId || entry.clusterId === clusterId) this.cache.delete(hostId);
  }

  private async clusterOf(hostId: string) {
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(hostId);
    if (cached && now - cached.at < (this.deps.settingsTtlMs ?? 2000)) return cached;
    const row = await this.deps.repos.ha.hostCluster(hostId);
    if (!row) return null;
    const entry = { at: now, clusterId: row.clusterId, settings: readHaSettings(row.haSettings) };
    this.cache.set(hostId, entry);
    return entry;
  }
}
