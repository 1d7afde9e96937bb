import { z } from 'zod';

/**
 * Params and results of live storage migration (issue 12, the whitepaper's
 * "Move virtual machine storage with no downtime"). All run on the VM's own
 * host; the control plane (packages/core/src/mobility/move-vm-storage.ts) runs
 * them in the whitepaper's order:
 *
 *   storage.copy     each disk mirrored to its file in the destination pool: what is
 *                    there is copied while the guest goes on writing to the source,
 *                    every write from then on goes to both (steps 1–3);
 *   storage.sync     between two guest writes, each destination digest equals its
 *                    source (synchronized, step 3);
 *   storage.switch   between two guest writes, the disks continue on the destination
 *                    files (step 4); the point of no return;
 *   storage.cleanup  the source files are gone and their folder removed (step 5);
 *   storage.abort    undo before the switch: mirrors stopped, destination files deleted.
 */
const id = z.string().uuid();

export const storageMoveParamsSchema = z.object({
  moveId: id,
  /** The destination pool's name, as the host reports it. */
  toPool: z.string().min(1).max(255),
  /** The disks (by name) that move. */
  disks: z.array(z.string().min(1).max(255)).min(1).max(64),
});
export type StorageMoveParams = z.infer<typeof storageMoveParamsSchema>;

const diskReport = z.object({
  name: z.string(),
  /** The destination file, relative to the agent's state directory. */
  file: z.string(),
  blocks: z.number().int().min(0),
  sha256: z.string().optional(),
});

/** copy, sync and switch report the guest's write number, so a test can show writes went on while mirroring. */
export const storageMoveResultSchema = z.object({
  disks: z.array(diskReport).max(64),
  guestWriteSeq: z.number().int().min(0),
  /** copy only: the guest's write number when mirroring began. */
  guestWriteSeqAtStart: z.number().int().min(0).optional(),
  copiedBytes: z.number().int().min(0).optional(),
  /** cleanup: the source files that were checked gone. */
  removed: z.array(z.string()).max(256).optional(),
});
export type StorageMoveResult = z.infer<typeof storageMoveResultSchema>;
