import { z } from 'zod';
import { wholeNumber } from '../shared/text.schema';
import { vmPatternFields } from '../shared/vm-pattern.schema';

/** Inputs of the mobility procedures (limits named in the messages). */

/** Where to: a host, or the one placement finds best. zod reports the union's message or the uuid's, by the value's type. */
const TO = "to must be a host id (uuid) or 'best'";
const destination = z.union([z.literal('best'), z.uuid({ error: TO })], { error: TO });
export const migrateInput = z
  .object({
    vmId: z.string().uuid({ message: 'vmId must be a VM id (uuid)' }),
    to: destination,
    toClusterId: z.string().uuid({ message: 'toClusterId must be a cluster id (uuid)' }).optional(),
  })
  .strict();

/** Migrate by pattern (`Move-VM -Name web*`): every matching VM to one host, or each to the best host (of a cluster). */
export const migrateByPatternInput = z
  .object({
    ...vmPatternFields,
    to: destination,
    toClusterId: z.string().uuid({ message: 'toClusterId must be a cluster id (uuid)' }).optional(),
  })
  .strict();
export type MigrateByPatternInput = z.infer<typeof migrateByPatternInput>;

export const cancelMigrationInput = z
  .object({ taskId: z.string().uuid({ message: 'taskId must be a task id (uuid)' }) })
  .strict();

export const MIGRATION_HISTORY_MAX = 200;
export const migrationHistoryInput = z
  .object({
    limit: wholeNumber('limit (migrations)', 1, MIGRATION_HISTORY_MAX).default(50),
  })
  .strict();

export const evacuateInput = z
  .object({ hostId: z.string().uuid({ message: 'hostId must be a host id (uuid)' }) })
  .strict();

/**
 * Leaving maintenance: the host, and whether the VMs its evacuation moved off
 * come back (bring-back-vms.ts). Leaving without them moves nothing.
 */
export const leaveMaintenanceInput = z
  .object({
    hostId: z.string().uuid({ message: 'hostId must be a host id (uuid)' }),
    bringBack: z.boolean({ message: 'bringBack is true (bring the VMs back) or false (move nothing)' }),
  })
  .strict();

/** Live storage migration: the destination pool (one of the VM's host's), optionally only some disks. */
export const moveStorageInput = z
  .object({
    vmId: z.string().uuid({ message: 'vmId must be a VM id (uuid)' }),
    toPool: z
      .string()
      .trim()
      .min(1, { message: "toPool names a storage pool of the VM's host" })
      .max(255, { message: 'toPool is at most 255 characters' }),
    disks: z
      .array(z.string().min(1).max(255))
      .min(1, { message: 'disks lists at least one disk name (leave it out to move them all)' })
      .max(64, { message: 'a VM has at most 64 disks' })
      .optional(),
  })
  .strict();
