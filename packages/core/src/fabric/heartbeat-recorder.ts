import type { HostChangeEvent } from './fabric.schema';
import type { HostRecord } from './fabric-repository';

/** One heartbeat to record: the host, the credential its agent presented, and what it said. */
export interface HeartbeatWrite {
  hostId: string;
  /** The hash of the credential the agent presented: the write checks it is still the host's. */
  credentialHash: string;
  seq: number;
  at: Date;
  agentVersion: string;
}

export type HeartbeatWriteOutcome =
  /** Recorded: the host as it is after the write. */
  | { kind: 'recorded'; host: HostRecord }
  /** `seq` is not above the host's last accepted one; nothing written. */
  | { kind: 'replayed' }
  /** The host was removed or its credential replaced since it was verified; nothing written. */
  | { kind: 'credential-invalid' };

/**
 * Where heartbeats are written and announced: the agent plane's hottest path
 * (10,000 hosts every 10 s is 1,000 a second). An adapter may group many
 * hosts' heartbeats into one write and their announcements into one round
 * trip; each heartbeat is still checked and recorded on its own terms
 * (credential, `seq` above the last, its own time) and its promise settles
 * only once it is durable (or announced).
 */
export interface HeartbeatRecorder {
  /** Checks the credential, accepts `seq` and records the time and agent version, atomically. */
  record(write: HeartbeatWrite): Promise<HeartbeatWriteOutcome>;
  /** Announces a heartbeat on the host event bus (the console's live host list). */
  announce(event: HostChangeEvent): Promise<void>;
}
