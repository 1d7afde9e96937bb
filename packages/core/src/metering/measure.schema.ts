import { z } from 'zod';
import { dateInRange } from '../shared/text.schema';

const DAY_MS = 86_400_000;

/** Longest period one measurement may span (a little over a year, as the daily usage series). */
export const MEASURE_MAX_DAYS = 400;
/** VMs listed one by one, the heaviest CPU users first; the rest are counted. */
export const MEASURE_TOP_VMS = 50;

/**
 * Whose VMs to measure together: a tenant's (a tenant role always gets its
 * own, whatever `tenantId` says; provider admins and finance name one) or a
 * resource pool's. Fabric's resource pool is a cluster: a VM belongs to the
 * pool of its current cluster, and its whole history in the period follows it.
 */
export const measureScopeSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('tenant'), tenantId: z.uuid('tenantId must be a tenant id (uuid)').optional() }),
    z.object({ kind: z.literal('pool'), clusterId: z.uuid('clusterId must be a cluster id (uuid)') }),
  ],
  { error: 'The scope is { kind: "tenant", tenantId? } or { kind: "pool", clusterId } (a resource pool is a cluster)' },
);
export type MeasureScope = z.infer<typeof measureScopeSchema>;

export const measureInput = z
  .object({
    scope: measureScopeSchema,
    /** Start of the period (exclusive, as Measure-VM: a sample ending at `from` belongs to the period before). */
    from: dateInRange('From'),
    /** End of the period (inclusive). */
    to: dateInRange('To'),
  })
  .superRefine((q, ctx) => {
    const spanMs = q.to.getTime() - q.from.getTime();
    if (!(spanMs > 0)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'The period must end after it starts' });
      return;
    }
    if (spanMs > MEASURE_MAX_DAYS * DAY_MS) {
      const days = Math.ceil(spanMs / DAY_MS);
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `A measurement spans at most ${MEASURE_MAX_DAYS} days; this period has ${days.toLocaleString('en-US')}. Choose a shorter period.`,
      });
    }
  });
export type MeasureInput = z.infer<typeof measureInput>;

const trafficSchema = z.object({
  remoteAddress: z.enum(['internet', 'datacenter']),
  inboundBytes: z.number(),
  outboundBytes: z.number(),
});
const aclTrafficSchema = z.object({ acl: z.string(), inboundBytes: z.number(), outboundBytes: z.number() });

/** One VM of the breakdown: its Measure-VM figures over the same period, plus its share of the totals. */
export const measuredVmSchema = z.object({
  vmId: z.string(),
  name: z.string(),
  samples: z.number(),
  meteredSeconds: z.number(),
  /** Measure-VM's averages: per second the VM was metered. */
  avgCpuMhz: z.number(),
  avgMemoryMiB: z.number(),
  minMemoryMiB: z.number(),
  maxMemoryMiB: z.number(),
  avgDiskGiB: z.number(),
  totalDiskGiB: z.number(),
  /** Its contribution to the totals' average CPU: MHz·s over the period's seconds (the sort key). */
  cpuShareMhz: z.number(),
  networkInBytes: z.number(),
  networkOutBytes: z.number(),
  runningVmHours: z.number(),
});
export type MeasuredVm = z.infer<typeof measuredVmSchema>;

/**
 * The whitepaper's metrics for many VMs together. Averages are time-weighted
 * sums over the period's wall-clock seconds (the usage series' definition):
 * each VM adds its Measure-VM average × the share of the period it was
 * metered, so a VM metered for the whole period adds exactly its Measure-VM
 * average, and one that reported nothing adds zero.
 */
export const measurementSchema = z.object({
  scope: z.object({ kind: z.enum(['tenant', 'pool']), id: z.string() }),
  from: z.date(),
  to: z.date(),
  /** VMs with any usage in the period. */
  vmCount: z.number(),
  samples: z.number(),
  /** Seconds covered by samples, summed over VMs. */
  meteredSeconds: z.number(),
  avgCpuMhz: z.number(),
  avgMemoryMiB: z.number(),
  /** The least and most memory any one VM had. */
  minMemoryMiB: z.number(),
  maxMemoryMiB: z.number(),
  avgDiskGiB: z.number(),
  /** Disk allocated at the end of the period: each VM's last figure in it, summed. */
  totalDiskGiB: z.number(),
  diskReadBytes: z.number(),
  diskWriteBytes: z.number(),
  network: z.array(trafficSchema),
  networkAcls: z.array(aclTrafficSchema),
  /** Σ running seconds / 3,600 (a VM ran while it held memory or used CPU). */
  runningVmHours: z.number(),
  /** The first `MEASURE_TOP_VMS` VMs by CPU used, heaviest first. */
  vms: z.array(measuredVmSchema),
  /** VMs with usage not listed in `vms`. */
  otherVms: z.number(),
});
export type Measurement = z.infer<typeof measurementSchema>;
