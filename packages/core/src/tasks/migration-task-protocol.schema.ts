import { z } from 'zod';

/**
 * Params and results of the live migration kinds (issue 12). Each runs on one
 * host; the control plane (packages/core/src/mobility/migrate-vm.ts) runs them
 * in the whitepaper's order across both hosts:
 *
 *   migration.prepare   destination: memory reserved for the VM (params: the spec);
 *   migration.precopy   source: memory sent in passes while the VM runs (simulated at the modeled speed);
 *   migration.final     source: the VM paused, the last dirty pages and CPU/device state sent (the blackout),
 *                       the source partition torn down;
 *   migration.activate  destination: the VM created from the transferred state and started (params: the spec);
 *   migration.cleanup   source: the VM's copy removed (idempotent: gone already is fine);
 *   migration.abort     either: undo (destination: the skeleton removed and any disk copy deleted;
 *                       source: the VM running again).
 *
 * Shared-nothing (the whitepaper's six steps; no pool is shared between two simulated hosts, so every
 * move carries the disks):
 *
 *   migration.disks-receive   destination: a folder for the incoming disks and a credential for this
 *                             migration's peer scope (`migration/<migrationId>`); answers both;
 *   migration.disks-copy      source: each disk copied to the destination's peer listener while the
 *                             guest writes, every write from then on sent there too, in order (mirrored);
 *                             the mirror stays on after the task;
 *   migration.disks-handover  source, the guest stopped: the mirror drained, the destination's digests
 *                             checked equal to the source's, the mirror ended (the destination's copy is
 *                             complete; activate runs the VM on it; cleanup deletes the source files);
 *   migration.disks-abort     source: the mirror stopped (idempotent); the source disks are untouched.
 */
const id = z.string().uuid();

export const migrationPrepareParamsSchema = z.object({
  migrationId: id,
  spec: z.record(z.string(), z.unknown()),
  /** activate: start the VM (live) or only register it, off (a cold move). Default true. */
  start: z.boolean().optional(),
});

export const migrationPrecopyParamsSchema = z.object({
  migrationId: id,
  memoryMiB: z
    .number()
    .positive()
    .max(16 * 1024 * 1024),
  workingSetMiB: z
    .number()
    .positive()
    .max(16 * 1024 * 1024),
  dirtyMiBps: z.number().min(0).max(1_000_000),
  /** Auto-converge: the guest's writes capped at this rate; null = not capped. */
  dirtyCapMiBps: z.number().positive().max(1_000_000).nullable(),
  linkMbps: z.number().positive().max(1_000_000),
  concurrent: z.number().int().min(1).max(1000),
  maxPasses: z.number().int().min(1).max(100),
  maxBlackoutMs: z.number().positive().max(600_000),
  /** Wall seconds per modeled second (tests run migrations faster than life). */
  timeScale: z.number().min(0).max(10),
  seed: z.number().int(),
});

export const migrationPrecopyResultSchema = z.object({
  passes: z.array(z.object({ pass: z.number(), mib: z.number(), seconds: z.number() })).max(100),
  precopySeconds: z.number(),
  remainingMiB: z.number(),
  blackoutMs: z.number(),
  converged: z.boolean(),
  sentMiB: z.number(),
});
export type MigrationPrecopyResult = z.infer<typeof migrationPrecopyResultSchema>;

export const migrationFinalParamsSchema = z.object({
  migrationId: id,
  blackoutMs: z.number().min(0).max(600_000),
  timeScale: z.number().min(0).max(10),
});

export const migrationStepParamsSchema = z.object({ migrationId: id });

export const migrationAbortParamsSchema = z.object({
  migrationId: id,
  side: z.enum(['source', 'destination']),
});

/** disks-receive's answer: where and with what the source sends the disks. */
export const migrationDisksReceiveResultSchema = z.object({
  peerUrl: z
    .string()
    .max(200)
    .regex(/^https?:\/\/[0-9A-Za-z.[\]:-]{1,160}:\d{1,5}\/?$/, 'peerUrl must be http(s)://<host>:<port>'),
  credential: z.string().min(32).max(128),
});

export const migrationDisksCopyParamsSchema = z.object({
  migrationId: id,
  peerUrl: migrationDisksReceiveResultSchema.shape.peerUrl,
  credential: migrationDisksReceiveResultSchema.shape.credential,
});

/** disks-copy and disks-handover report what moved, so the Tasks panel and tests can show it. */
export const migrationDisksResultSchema = z.object({
  disks: z.array(z.object({ name: z.string(), blocks: z.number().int().min(0), sha256: z.string().optional() })),
  /** copy: bytes of the initial copy; handover: bytes sent in all (copy and mirrored writes). */
  bytes: z.number().int().min(0),
  durationMs: z.number().min(0),
  /** The guest's write number when mirroring began (copy) and now. */
  guestWriteSeqAtStart: z.number().int().min(0).optional(),
  guestWriteSeq: z.number().int().min(0),
  /** Guest writes sent to the destination while mirroring (handover). */
  mirroredWrites: z.number().int().min(0).optional(),
});
export type MigrationDisksResult = z.infer<typeof migrationDisksResultSchema>;
