import { z } from 'zod';
import { createVmInput } from './vm.schema';

export const nPlusOneSchema = z.object({
  clusterId: z.string(),
  clusterName: z.string(),
  hosts: z.number(),
  /** The cluster can lose any one host and restart all its HA VMs elsewhere. */
  ok: z.boolean(),
  worst: z.object({
    hostId: z.string(),
    hostName: z.string(),
    placed: z.number(),
    unplaced: z.array(z.object({ vmId: z.string().optional(), name: z.string(), summary: z.string() })),
  }),
  perHost: z.array(
    z.object({ hostId: z.string(), hostName: z.string(), ok: z.boolean(), placed: z.number(), unplaced: z.number() }),
  ),
});

export const evacuationSchema = z.object({
  hostId: z.string(),
  hostName: z.string(),
  ok: z.boolean(),
  unmovable: z.number(),
  moves: z.array(
    z.object({
      vmId: z.string().nullable(),
      name: z.string(),
      haPriority: z.enum(['high', 'medium', 'low', 'off']),
      toHostId: z.string().nullable(),
      toHostName: z.string().nullable(),
      summary: z.string(),
    }),
  ),
});

/** The most VMs one what-if places (the console's form says so and stops there). */
export const WHAT_IF_MAX_VMS = 500;

export const whatIfBatchInput = z.object({
  clusterId: z.string().uuid(),
  /** Whose VMs they would be (affinity groups and dedicated hosts are per tenant). */
  tenantId: z.string().uuid(),
  vms: z.array(createVmInput).min(1).max(WHAT_IF_MAX_VMS, `At most ${WHAT_IF_MAX_VMS} VMs per what-if`),
});

export const whatIfBatchSchema = z.object({
  placed: z.number(),
  results: z.array(
    z.object({ name: z.string(), hostId: z.string().nullable(), hostName: z.string().nullable(), summary: z.string() }),
  ),
});
