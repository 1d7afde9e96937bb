import { SYSTEM_ACTOR } from '../shared/tenant-scope';
import { changeEvent, type FabricServiceDeps } from './fabric-deps';
import { type HostState, nextStateFromSilence, silenceCutoff } from './host-state';

export interface StateChange {
  hostId: string;
  name: string;
  from: HostState;
  to: HostState;
}

const MONITOR_LOCK = 'fabric.host-monitor';

/** Moves hosts that stopped heartbeating to suspect, then failed. */
export class HostMonitor {
  /**
   * When this process began watching: a host is not counted silent for time the control plane itself
   * was not listening (after an API restart, every host's last heartbeat is old; a CI run saw the
   * survivor of an HA test judged failed by the restarted API, which then had nowhere to restart to).
   */
  private readonly watchingSince: Date;

  constructor(private readonly deps: FabricServiceDeps) {
    this.watchingSince = deps.clock.now();
  }

  /**
   * One pass of the host monitor: moves silent hosts to suspect or failed and
   * audits each change. Runs in one transaction under a Postgres lock, so with
   * several API processes only one pass runs at a time; a pass decides only
   * from stored timestamps, so a restart loses nothing and a repeated pass
   * changes nothing. Returns the changes it made (none when another process
   * held the lock).
   */
  async monitorTick(): Promise<StateChange[]> {
    const now = this.deps.clock.now();
    const { policy } = this.deps;
    return this.deps.uow.run(async ({ fabric, audit }) => {
      if (!(await fabric.tryLock(MONITOR_LOCK))) return [];
      const cutoff = silenceCutoff(now, policy.suspectAfterMissed, policy);
      const silent = await fabric.findSilentHosts(['connected', 'suspect'], cutoff);
      const changes: StateChange[] = [];
      for (const host of silent) {
        const lastSeen = host.lastHeartbeatAt ?? host.registeredAt;
        const heardOrWatched = new Date(Math.max(lastSeen.getTime(), this.watchingSince.getTime()));
        const next = nextStateFromSilence(host.state, heardOrWatched, now, policy);
        if (!next) continue;
        const threshold = next === 'failed' ? policy.failedAfterMissed : policy.suspectAfterMissed;
        const moved = await fabric.setState({
          hostId: host.id,
          from: host.state,
          to: next,
          at: now,
          maintenanceReason: null,
          // A heartbeat that committed since the read above wins.
          silentBefore: silenceCutoff(now, threshold, policy),
        });
        if (!moved) continue;
        const missed = Math.floor(
          (now.getTime() - (host.lastHeartbeatAt ?? host.registeredAt).getTime()) / policy.heartbeatIntervalMs,
        );
        await audit.append({
          actor: SYSTEM_ACTOR,
          action: 'host.state',
          targetType: 'host',
          targetId: host.id,
          targetLabel: host.name,
          result: 'success',
          message: `${host.name}: ${host.state} → ${next} (${missed} heartbeats missed)`,
          details: { from: host.state, to: next, missedHeartbeats: missed },
        });
        await fabric.notifyHostChange({ ...changeEvent(host, 'state'), state: next });
        changes.push({ hostId: host.id, name: host.name, from: host.state, to: next });
      }
      return changes;
    });
  }
}
