import { z } from 'zod';

/**
 * Host failure drills (docs/high-availability.md, "Trying it: a host failure drill"): on simulated hosts
 * only (npm start, the browser tests), the provider cuts a host's power through its BMC and watches HA
 * restart its VMs elsewhere, then gives the power back. A real fabric never offers them.
 */
const hostId = z.string().uuid('host id must be a UUID');

/** The failures a drill can cause. A power loss is Redfish ForceOff: the host and its VMs stop at once. */
export const HOST_FAILURE_DRILLS = ['power-loss'] as const;
export type HostFailureDrill = (typeof HOST_FAILURE_DRILLS)[number];

export const simulateHostFailureInput = z
  .object({
    hostId,
    kind: z.enum(HOST_FAILURE_DRILLS, { error: `kind must be one of: ${HOST_FAILURE_DRILLS.join(', ')}` }),
  })
  .strict();
export type SimulateHostFailureInput = z.infer<typeof simulateHostFailureInput>;

export const hostPowerInput = z.object({ hostId }).strict();

/** The host's power as its BMC reads it, and what a power loss would do; null when the hosts are not simulated. */
export const hostPowerViewSchema = z
  .object({
    hostName: z.string(),
    clusterName: z.string(),
    /** Null when the BMC could not be read (see `problem`). */
    powerState: z.enum(['On', 'Off']).nullable(),
    /** Why the power state is unknown or a drill cannot run (no BMC login, BMC unreachable); null when none. */
    problem: z.string().nullable(),
    haEnabled: z.boolean(),
    /** What a power loss does, in plain words: the confirmation says it before anything happens. */
    consequence: z.string(),
  })
  .nullable();
export type HostPowerView = z.infer<typeof hostPowerViewSchema>;

export const hostPowerResultSchema = z.object({ powerState: z.enum(['On', 'Off']), at: z.date() });
export type HostPowerResult = z.infer<typeof hostPowerResultSchema>;
