import { z } from 'zod';
import { dateInRange } from '../shared/text.schema';

export const measureVmInput = z
  .object({
    id: z.string().uuid(),
    /** Default: since the VM's metering was last reset. */
    from: dateInRange('From').optional(),
    /** Default: now. */
    to: dateInRange('To').optional(),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'The period must end after it starts', path: ['to'] });
export type MeasureVmInput = z.infer<typeof measureVmInput>;

/** Measure-VM, over a period: the whitepaper's metrics. */
export const vmMeasurementSchema = z.object({
  vmId: z.string(),
  name: z.string(),
  from: z.date(),
  to: z.date(),
  /** Seconds covered by samples (less than the period when the VM's host was silent). */
  meteredSeconds: z.number(),
  samples: z.number(),
  avgCpuMhz: z.number(),
  avgMemoryMiB: z.number(),
  minMemoryMiB: z.number(),
  maxMemoryMiB: z.number(),
  /** Disk allocated at the end of the period, and on average over it. */
  totalDiskGiB: z.number(),
  avgDiskGiB: z.number(),
  diskReadBytes: z.number(),
  diskWriteBytes: z.number(),
  network: z.array(
    z.object({
      remoteAddress: z.enum(['internet', 'datacenter']),
      inboundBytes: z.number(),
      outboundBytes: z.number(),
    }),
  ),
  /** Per metered port ACL (provider-defined address class), by name; empty when none was metered. */
  networkAcls: z.array(z.object({ acl: z.string(), inboundBytes: z.number(), outboundBytes: z.number() })),
});
export type VmMeasurement = z.infer<typeof vmMeasurementSchema>;
