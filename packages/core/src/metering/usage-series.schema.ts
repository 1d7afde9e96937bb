import { z } from 'zod';
import { dateInRange, oneOf } from '../shared/text.schema';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Most points one series may have, per bucket: 2,200 hours is a little over
 * 90 days of hourly points, 400 days a little over a year of daily ones. A
 * chart shows no more than a screen's width of points anyway.
 */
export const USAGE_SERIES_LIMITS = { hour: 2_200, day: 400 } as const;

export const usageBucketSchema = oneOf('Bucket', ['hour', 'day']);
export type UsageBucket = z.infer<typeof usageBucketSchema>;

/** How many buckets of `bucket` [from, to) spans; daily buckets are UTC days, the first and last possibly partial. */
export function usageBucketCount(fromMs: number, toMs: number, bucket: UsageBucket): number {
  if (bucket === 'hour') return Math.ceil((toMs - fromMs) / HOUR_MS);
  return Math.ceil(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS);
}

const wholeHour = (label: string) =>
  dateInRange(label).refine((d) => d.getTime() % HOUR_MS === 0, 'Must fall on a whole UTC hour');

/**
 * Whose usage: a tenant's (a tenant role always gets its own, whatever
 * `tenantId` says; provider roles name one), one VM's, or one host's (the
 * provider's view, from raw samples, so only within sample retention).
 */
export const usageScopeSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('tenant'), tenantId: z.uuid('tenantId must be a tenant id (uuid)').optional() }),
    z.object({ kind: z.literal('vm'), vmId: z.uuid('vmId must be a VM id (uuid)') }),
    z.object({ kind: z.literal('host'), hostId: z.uuid('hostId must be a host id (uuid)') }),
  ],
  { error: 'The scope is { kind: "tenant", tenantId? }, { kind: "vm", vmId } or { kind: "host", hostId }' },
);
export type UsageScope = z.infer<typeof usageScopeSchema>;

export const usageSeriesInput = z
  .object({
    scope: usageScopeSchema,
    /** Start of the first bucket, on a whole UTC hour (inclusive). */
    from: wholeHour('From'),
    /** End of the last bucket, on a whole UTC hour (exclusive). */
    to: wholeHour('To'),
    bucket: usageBucketSchema,
  })
  .superRefine((q, ctx) => {
    const fromMs = q.from.getTime();
    const toMs = q.to.getTime();
    if (!(fromMs < toMs)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'The period must end after it starts' });
      return;
    }
    const limit = USAGE_SERIES_LIMITS[q.bucket];
    const count = usageBucketCount(fromMs, toMs, q.bucket);
    if (count > limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `At most ${limit.toLocaleString('en-US')} ${q.bucket === 'hour' ? 'hourly' : 'daily'} points per series; this period has ${count.toLocaleString('en-US')}. Choose a shorter period or ${q.bucket === 'hour' ? 'daily buckets' : 'fewer days'}.`,
      });
    }
  });
export type UsageSeriesInput = z.infer<typeof usageSeriesInput>;

/**
 * One bucket. Averages are time-weighted sums divided by the bucket's
 * wall-clock seconds (Measure-VM's definitions, summed over the scope's
 * VMs): a VM that reported nothing counts as zero, and a VM metered for the
 * whole bucket gets exactly its Measure-VM average over the same span.
 */
export const usagePointSchema = z.object({
  /** Bucket start and end (a daily bucket is cut to the asked period at either end). */
  from: z.date(),
  to: z.date(),
  /** Seconds covered by samples, summed over VMs (a VM metered all hour adds 3,600). */
  meteredSeconds: z.number(),
  avgCpuMhz: z.number(),
  avgMemoryMiB: z.number(),
  avgDiskGiB: z.number(),
  /** Both address classes (internet and datacenter). */
  networkInBytes: z.number(),
  networkOutBytes: z.number(),
  /** VM-hours running: Σ running seconds / 3,600 (a VM ran while it held memory or used CPU). */
  runningVmHours: z.number(),
});
export type UsagePoint = z.infer<typeof usagePointSchema>;

export const usageSeriesSchema = z.object({
  scope: z.object({ kind: z.enum(['tenant', 'vm', 'host']), id: z.string() }),
  from: z.date(),
  to: z.date(),
  bucket: usageBucketSchema,
  /** Every bucket of the period in order, empty ones as zeros. */
  points: z.array(usagePointSchema),
  /**
   * Host series come from raw samples, kept for the sample retention only:
   * buckets before this instant are zeros because their samples were dropped.
   * Null for tenant and VM series (hourly rollups are kept).
   */
  availableFrom: z.date().nullable(),
});
export type UsageSeries = z.infer<typeof usageSeriesSchema>;
