import { z } from 'zod';
import { oneOf } from '../shared/text.schema';
import { vmSpecSchema } from './task-protocol.schema';

/**
 * Params and results of the `replica.*` agent tasks (shared contract part 4):
 * the control plane (packages/core/src/replication) queues them with these
 * params; the agent (apps/agent/src/replica) validates them with these
 * schemas and answers with these results. Blocks travel agent to agent over
 * the peer listener (apps/agent/src/disks/README.md), never through the API.
 *
 * Failure codes (the task report's `code`):
 * - CHANGE_TRACKING_LOST (replica.cycle, mode delta): the primary has no change
 *   log for a disk; queue a cycle with mode 'resync' (block checksums compared,
 *   only differing blocks sent).
 * - RELATIONSHIP_NOT_FOUND: the replica host was never told (replica.accept) or
 *   the relationship was removed; REPLICA_REFUSED: the replica host's peer
 *   listener refused the cycle (credential, unknown point); PEER_UNREACHABLE:
 *   no answer from peerUrl; POINT_NOT_FOUND: a point that is not kept;
 *   CHECKSUM_MISMATCH: the replica's point does not hash to the primary's
 *   snapshot (nothing is kept); VM_NOT_FOUND / INVALID_STATE as for vm.* tasks;
 *   INVALID_PARAMS: params these schemas refuse.
 */
const MAX_DISKS = 64;
const MAX_POINTS = 1024;

const uuid = (what: string) => z.string().uuid(`${what} must be a UUID`);
export const replicaCredentialSchema = z
  .string()
  .min(16, 'credential has at least 16 characters')
  .max(512, 'credential has at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'credential is printable ASCII without spaces');
const diskName = z.string().min(1, 'disk name is empty').max(255, 'disk name has at most 255 characters');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits');
const peerUrl = z
  .string()
  .max(200, 'peerUrl has at most 200 characters')
  .regex(/^https?:\/\/[0-9A-Za-z.[\]:-]{1,160}:\d{1,5}\/?$/, 'peerUrl must be http(s)://<host>:<port>');
const diskChecksums = z.array(z.object({ name: diskName, sha256 })).max(MAX_DISKS, `at most ${MAX_DISKS} disks`);

export const QUIESCE_STATUSES = ['quiesced', 'failed', 'timed-out'] as const;
export const quiesceReportSchema = z.object({
  status: oneOf('quiesce status', QUIESCE_STATUSES),
  durationMs: z.number().int().min(0),
  message: z.string().max(500),
});
export type QuiesceReport = z.infer<typeof quiesceReportSchema>;

export const REPLICA_CYCLE_MODES = ['initial', 'delta', 'resync', 'final'] as const;
export type ReplicaCycleMode = (typeof REPLICA_CYCLE_MODES)[number];

// --- replica.accept (replica host) -------------------------------------------

export const replicaAcceptParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  vmId: uuid('vmId'),
  /** The per-pair credential the primary will present on this host's peer listener, for this relationship only. */
  credential: replicaCredentialSchema,
  primaryHostId: uuid('primaryHostId'),
  /** Where replica storage goes (informational for the simulated host). */
  storagePool: z.string().max(255).nullish(),
  disks: z
    .array(
      z.object({
        name: diskName,
        sizeBytes: z
          .number()
          .int()
          .min(1)
          .max(64 * 1024 ** 4),
      }),
    )
    .min(1, 'a replicated VM has at least one disk')
    .max(MAX_DISKS, `at most ${MAX_DISKS} disks`),
});
export type ReplicaAcceptParams = z.infer<typeof replicaAcceptParamsSchema>;

export const replicaAcceptResultSchema = z.object({
  relationshipId: uuid('relationshipId'),
  /** Points the replica holds already (a repeated accept, reverse replication onto old storage). */
  points: z.array(z.object({ pointId: uuid('pointId'), guestWriteSeq: z.number().int().min(0) })).max(MAX_POINTS),
  /** Bytes replica storage takes on the host now. */
  storageBytes: z.number().int().min(0),
});
export type ReplicaAcceptResult = z.infer<typeof replicaAcceptResultSchema>;

// --- replica.cycle (primary host) --------------------------------------------

export const replicaCycleParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  /** Minted by the control plane before queuing: a cycle run again with the same id answers the same point. */
  pointId: uuid('pointId'),
  mode: z.enum(REPLICA_CYCLE_MODES),
  /** The replica host's peer listener (its inventory's peerUrl). */
  peerUrl,
  credential: replicaCredentialSchema,
  /** Blocks deflated on the wire (node:zlib) when it saves bytes. */
  compression: z.boolean().default(false),
  /**
   * Ask the guest to quiesce for an application-consistent point (VSS: finish and hold its transactions while
   * the snapshot is taken). A guest that fails or does not answer within quiesceTimeoutMs gives a standard
   * (crash-consistent) point instead, and the result says why.
   */
  appConsistent: z.boolean().default(false),
  quiesceTimeoutMs: z
    .number()
    .int()
    .min(100, 'quiesceTimeoutMs is at least 100 ms')
    .max(120_000, 'quiesceTimeoutMs is at most 120,000 ms')
    .default(10_000),
});
export type ReplicaCycleParams = z.infer<typeof replicaCycleParamsSchema>;

export const replicaCycleResultSchema = z.object({
  pointId: uuid('pointId'),
  mode: oneOf('cycle mode', REPLICA_CYCLE_MODES),
  /** Bytes on the wire (block payloads after compression). */
  bytesSent: z.number().int().min(0),
  /** Bytes of the blocks shipped before compression. */
  bytesLogical: z.number().int().min(0),
  blocksSent: z.number().int().min(0),
  durationMs: z.number().min(0),
  /** Each disk's content sha256 at the point (primary snapshot == replica point; apps/agent/src/disks/README.md). */
  disks: diskChecksums,
  /** The guest's last write in the point: writes after it are not in it. */
  guestWriteSeq: z.number().int().min(0),
  /** True only when the guest quiesced: the point then holds no half-finished guest transaction. */
  appConsistent: z.boolean(),
  /** The quiesce asked for an application-consistent point, and how it went; null when none was asked. */
  quiesce: quiesceReportSchema.nullish(),
});
export type ReplicaCycleResult = z.infer<typeof replicaCycleResultSchema>;

// --- replica.retain (replica host) -------------------------------------------

export const replicaRetainParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  /** Points to keep; every other point is dropped (the newest point is always kept). */
  keepPointIds: z.array(uuid('keepPointIds[]')).max(MAX_POINTS, `at most ${MAX_POINTS} points`),
});
export type ReplicaRetainParams = z.infer<typeof replicaRetainParamsSchema>;

export const replicaRetainResultSchema = z.object({
  kept: z.array(uuid('pointId')).max(MAX_POINTS),
  dropped: z.array(uuid('pointId')).max(MAX_POINTS),
  storageBytes: z.number().int().min(0),
});
export type ReplicaRetainResult = z.infer<typeof replicaRetainResultSchema>;

// --- replica.test-failover / replica.stop-test (replica host) ----------------

export const replicaTestFailoverParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  pointId: uuid('pointId'),
  /** The test VM's id (a new VM, never the replicated one). */
  testVmId: uuid('testVmId'),
  name: z.string().min(1).max(100),
  /** The test VM's shape; default: the replicated VM's disks with 1 vCPU and 512 MiB. */
  spec: vmSpecSchema.nullish(),
});
export type ReplicaTestFailoverParams = z.infer<typeof replicaTestFailoverParamsSchema>;

export const replicaStopTestParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  testVmId: uuid('testVmId'),
});
export type ReplicaStopTestParams = z.infer<typeof replicaStopTestParamsSchema>;

// --- replica.failover / commit / revert (replica host) -----------------------

export const replicaFailoverParamsSchema = z.object({
  relationshipId: uuid('relationshipId'),
  pointId: uuid('pointId'),
  /** The VM to create on this host from the point (its vmId is the replicated VM's). */
  spec: vmSpecSchema,
  /** Start it once created (default true). */
  start: z.boolean().default(true),
});
export type ReplicaFailoverParams = z.infer<typeof replicaFailoverParamsSchema>;

export const replicaCommitParamsSchema = z.object({ relationshipId: uuid('relationshipId') });
export type ReplicaCommitParams = z.infer<typeof replicaCommitParamsSchema>;

export const replicaRevertParamsSchema = z.object({ relationshipId: uuid('relationshipId') });
export type ReplicaRevertParams = z.infer<typeof replicaRevertParamsSchema>;

// --- replica.remove (replica host) -------------------------------------------

/**
 * Replication removed (or the replicated VM deleted): the relationship's replica storage goes (its folder:
 * disks as of the newest point, every recovery point's undo file), with any test VM made from it and its
 * disks, and the peer credential is revoked; so does the copy of the VM's disks this host set aside when a
 * failover moved the VM away (apps/agent/src/disks/vm-disks.ts), when it was kept for this relationship. The
 * control plane sends it to both sides. The replicated VM itself is never touched, even when it runs on this
 * host. Idempotent: a relationship this host does not hold is already removed.
 */
export const replicaRemoveParamsSchema = z.object({ relationshipId: uuid('relationshipId') });
export type ReplicaRemoveParams = z.infer<typeof replicaRemoveParamsSchema>;

export const replicaRemoveResultSchema = z.object({
  relationshipId: uuid('relationshipId'),
  /** false: this host held nothing of it (never accepted, or removed before). */
  existed: z.boolean(),
  /** Bytes of replica storage freed (allocated blocks of the disks plus the undo files). */
  freedBytes: z.number().int().min(0),
  pointsRemoved: z.number().int().min(0),
  testVmsRemoved: z.array(uuid('testVmId')).max(MAX_POINTS),
  /** The VM's disks set aside here by a failover (for this relationship) were deleted. */
  setAsideRemoved: z.boolean(),
});
export type ReplicaRemoveResult = z.infer<typeof replicaRemoveResultSchema>;

/** replica.test-failover and replica.failover: the VM made from the point. */
export const replicaMaterializeResultSchema = z.object({
  pointId: uuid('pointId'),
  vmId: uuid('vmId'),
  guestWriteSeq: z.number().int().min(0),
  /** Each disk's sha256 as materialized: equals the point's. */
  disks: diskChecksums,
  vmState: oneOf('vmState', ['off', 'running', 'paused', 'saved']),
});
export type ReplicaMaterializeResult = z.infer<typeof replicaMaterializeResultSchema>;

/** replica.stop-test, replica.commit, replica.revert. */
export const replicaDoneResultSchema = z.object({
  relationshipId: uuid('relationshipId'),
  /** Points the replica keeps afterwards. */
  points: z.array(uuid('pointId')).max(MAX_POINTS),
  storageBytes: z.number().int().min(0),
});
export type ReplicaDoneResult = z.infer<typeof replicaDoneResultSchema>;

/** Each kind's params schema, for the agent's dispatch and the control plane's checks before queuing. */
export const REPLICA_PARAMS_SCHEMAS = {
  'replica.accept': replicaAcceptParamsSchema,
  'replica.cycle': replicaCycleParamsSchema,
  'replica.retain': replicaRetainParamsSchema,
  'replica.test-failover': replicaTestFailoverParamsSchema,
  'replica.stop-test': replicaStopTestParamsSchema,
  'replica.failover': replicaFailoverParamsSchema,
  'replica.commit': replicaCommitParamsSchema,
  'replica.revert': replicaRevertParamsSchema,
  'replica.remove': replicaRemoveParamsSchema,
} as const;
