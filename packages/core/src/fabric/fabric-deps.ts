import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import type { UnitOfWork } from '../shared/unit-of-work';
import type { HostChangeEvent } from './fabric.schema';
import type { FabricRepository, HostRecord } from './fabric-repository';
import type { HeartbeatRecorder } from './heartbeat-recorder';
import type { HeartbeatPolicy } from './host-state';

export type FabricRepos = { fabric: FabricRepository; audit: AuditRepository };

/** What every fabric use case is built from (one object, shared by the FabricService facade). */
export interface FabricServiceDeps {
  uow: UnitOfWork<FabricRepos>;
  clock: Clock;
  policy: HeartbeatPolicy;
  /** The URL agents use to reach the API, for the copyable start command. */
  agentApiUrl: string;
  /** Heartbeats' writes and announcements (the adapter may group many hosts' into one round trip). */
  heartbeats: HeartbeatRecorder;
}

/** The event the console's live host list listens to, as the host was before the change. */
export function changeEvent(host: HostRecord, kind: HostChangeEvent['kind']): HostChangeEvent {
  return { hostId: host.id, name: host.name, state: host.state, lastHeartbeatAt: host.lastHeartbeatAt, kind };
}
