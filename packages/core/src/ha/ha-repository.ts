import type { HaPriority } from './ha-settings';

export const HA_EVENT_STATES = [
  'detected',
  'fencing',
  'restarting',
  'waiting-capacity',
  'recovered',
  'cancelled',
  'failed',
] as const;
export type HaEventState = (typeof HA_EVENT_STATES)[number];

export const HA_RESTART_STATES = [
  'pending',
  'waiting-capacity',
  'restarting',
  'running',
  'failed',
  'not-restarted',
  'superseded',
] as const;
export type HaRestartState = (typeof HA_RESTART_STATES)[number];

export interface TimelineEntry {
  at: string;
  kind: string;
  message: string;
  vmId?: string;
}

export interface HaEventRow {
  id: string;
  clusterId: string;
  hostId: string;
  hostName: string;
  state: HaEventState;
  diagnosis: 'dead' | 'isolated' | 'unknown';
  fenceMethod: string;
  lastHeartbeatAt: Date;
  detectedAt: Date;
  fencedAt: Date | null;
  finishedAt: Date | null;
  jobId: string | null;
  timeline: TimelineEntry[];
}

export interface HaRestartRow {
  eventId: string;
  vmId: string;
  tenantId: string;
  vmName: string;
  priority: HaPriority;
  fromHostId: string;
  toHostId: string | null;
  toHostName?: string | null;
  state: HaRestartState;
  reason: string;
  fromEpoch: number;
  toEpoch: number | null;
  lastHeartbeatAt: Date;
  runningAt: Date | null;
  rtoMs: number | null;
}

export interface HostHealth {
  id: string;
  name: string;
  clusterId: string;
  state: 'connected' | 'suspect' | 'failed' | 'maintenance';
  lastHeartbeatAt: Date | null;
  registeredAt: Date;
  peerSeenAt: Date | null;
  fencedAt: Date | null;
}

/** HA's storage (apps/api/src/repositories/prisma-ha-repository.ts). */
export interface HaRepository {
  clusterSettings(): Promise<{ id: string; name: string; haSettings: unknown }[]>;
  setClusterSettings(clusterId: string, settings: Record<string, unknown>): Promise<boolean>;
  /** Hosts of the cluster not in maintenance, last heard of before `cutoff`. */
  silentHosts(clusterId: string, cutoff: Date): Promise<HostHealth[]>;
  hostHealth(hostId: string): Promise<HostHealth | null>;
  hasOpenEvent(hostId: string): Promise<boolean>;
  /** The last heartbeat the host's latest event was about (null: no event yet): one failure, one event. */
  lastEventHeartbeat(hostId: string): Promise<Date | null>;
  /**
   * False when the host already has an open event (the unique index decides a race), or an event about the
   * same silence or a later one (its last heartbeat at or after this one's), even if that one is over: two
   * overlapping monitor passes (in two API processes) open one event per failure, not two.
   */
  createEvent(
    event: Omit<HaEventRow, 'fencedAt' | 'finishedAt' | 'timeline'> & { timeline: TimelineEntry[] },
  ): Promise<boolean>;
  findEvent(id: string): Promise<HaEventRow | null>;
  updateEvent(
    id: string,
    patch: Partial<Pick<HaEventRow, 'state' | 'fencedAt' | 'finishedAt' | 'diagnosis'>>,
    add?: TimelineEntry[],
  ): Promise<void>;
  listEvents(clusterId: string | null, limit: number): Promise<HaEventRow[]>;
  /** VMs whose owner is the host, with their epochs. */
  vmsOnHost(
    hostId: string,
  ): Promise<{ vmId: string; tenantId: string; name: string; priority: HaPriority; state: string; epoch: number }[]>;
  /** Inserts the restarts that do not exist yet (one per event and VM). */
  createRestarts(rows: HaRestartRow[]): Promise<void>;
  restarts(eventId: string): Promise<HaRestartRow[]>;
  /** Tenants' names by id (the console tells two tenants' same-name VMs apart by them); unknown ids are left out. */
  tenantNames(tenantIds: string[]): Promise<Map<string, string>>;
  updateRestart(
    eventId: string,
    vmId: string,
    patch: Partial<Pick<HaRestartRow, 'state' | 'reason' | 'toHostId' | 'toEpoch' | 'runningAt' | 'rtoMs'>>,
  ): Promise<void>;
  /** Of VMs being restarted: the VM's state, host and epoch now, and its latest start task's end on that host. */
  restartProgress(vmIds: string[]): Promise<
    {
      vmId: string;
      state: string;
      hostId: string | null;
      epoch: number;
      startState: string | null;
      startFinishedAt: Date | null;
      startMessage: string;
    }[]
  >;
  /**
   * The VM's restart still in progress (pending, waiting for capacity, restarting) in an event that is not
   * over, with the failed host's and the target host's names; null when none.
   */
  openRestartOf(
    vmId: string,
  ): Promise<
    (HaRestartRow & { hostName: string; jobId: string | null; detectedAt: Date; fencedAt: Date | null }) | null
  >;
  /** VMs waiting for capacity in any open event of the cluster. */
  waitingInCluster(clusterId: string): Promise<number>;
  setVmPriority(vmId: string, priority: HaPriority): Promise<void>;
  /** The host's BMC login, its password sealed (shared/sealed-secret.ts); null when none is configured. */
  findHostBmc(hostId: string): Promise<HostBmcRow | null>;
  saveHostBmc(row: HostBmcRow): Promise<void>;
  /** False when the host had none. */
  deleteHostBmc(hostId: string): Promise<boolean>;
}

export interface HostBmcRow {
  hostId: string;
  url: string;
  username: string;
  passwordSealed: string;
  updatedAt: Date;
}
