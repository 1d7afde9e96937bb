import { z } from 'zod';
import { isoDateTimeInRange } from '../shared/text.schema';
import { Dec } from './money';

/** An instant on a whole UTC hour, e.g. "2026-11-01T13:00:00Z". */
const wholeHourSchema = isoDateTimeInRange('Time').refine(
  (value) => Date.parse(value) % 3_600_000 === 0,
  'Must fall on a whole UTC hour',
);

/**
 * A non-negative counter: a number, or an exact decimal string. Sums over a
 * day or a month (Postgres numeric) can pass 2^53, so the repositories hand
 * them over as text; rating reads both into decimals, never floats.
 */
const counterSchema = z.union(
  [
    z.number().nonnegative().finite(),
    z.string().regex(/^\d{1,30}(\.\d{1,10})?$/, 'A counter is a non-negative decimal such as "12.5"'),
  ],
  { error: 'A counter is a non-negative number or a decimal string such as "12.5"' },
);
const bytesSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const bytesPerClassSchema = z.object({ internet: bytesSchema, datacenter: bytesSchema });
const counterPerClassSchema = z.object({ internet: counterSchema, datacenter: counterSchema });
/**
 * Bytes per metered address class (metered port ACL), by class name; optional,
 * and absent for usage without ACLs, which rates exactly as before.
 */
const aclBytesSchema = z.record(z.string().min(1), z.object({ inBytes: counterSchema, outBytes: counterSchema }));

/**
 * One VM's hourly rollup, as the metering rollups store it. The counters are
 * integrals over the hour (value × seconds), so an average over any span is
 * their sum divided by the span, with no averaging of averages.
 */
export const hourlyUsageSchema = z.object({
  vmId: z.string().min(1),
  vmName: z.string(),
  /** Start of the hour this row covers. */
  hour: wholeHourSchema,
  vcpus: z.number().int().nonnegative(),
  runningSeconds: z.number().nonnegative().max(3600),
  memMibSeconds: z.number().nonnegative().finite(),
  /** Allocated disk GiB × seconds. */
  diskGibSeconds: z.number().nonnegative().finite(),
  /** Replica storage GiB × seconds; 0 for a VM without a replica. */
  replicaGibSeconds: z.number().nonnegative().finite().default(0),
  networkInBytes: bytesPerClassSchema,
  networkOutBytes: bytesPerClassSchema,
  aclBytes: aclBytesSchema.optional(),
});

/**
 * What rating reads: one VM's usage over a span [from, to) of whole hours —
 * an hourly rollup (1 h), a daily one (24 h, 00:00–24:00 UTC), or any sum of
 * those that one rate card prices whole (rate cards change only at 00:00
 * UTC, so a day never straddles two). Counters are sums of the hourly
 * integrals; vCPU-seconds are Σ vcpus × running seconds, multiplied hour by
 * hour, so a VM resized mid-day is billed exactly.
 */
export const usageRowSchema = z
  .object({
    vmId: z.string().min(1),
    /** The VM's name at the end of the span (a renamed VM is billed under its latest name). */
    vmName: z.string(),
    from: wholeHourSchema,
    to: wholeHourSchema,
    vcpuSeconds: counterSchema,
    memMibSeconds: counterSchema,
    diskGibSeconds: counterSchema,
    replicaGibSeconds: counterSchema.default(0),
    networkInBytes: counterPerClassSchema,
    networkOutBytes: counterPerClassSchema,
    aclBytes: aclBytesSchema.optional(),
  })
  .refine((row) => Date.parse(row.from) < Date.parse(row.to), 'A usage row must end after it starts');

/** Half-open [from, to), both on whole UTC hours. */
export const ratingPeriodSchema = z
  .object({ from: wholeHourSchema, to: wholeHourSchema })
  .refine((period) => Date.parse(period.from) < Date.parse(period.to), 'A period must end after it starts');

export type HourlyUsage = z.infer<typeof hourlyUsageSchema>;
export type UsageRow = z.infer<typeof usageRowSchema>;
export type Counter = z.infer<typeof counterSchema>;
export type RatingPeriod = z.infer<typeof ratingPeriodSchema>;

const HOUR_MS = 3_600_000;

/** An hourly rollup as a usage row of one hour (vCPU-seconds = vcpus × running seconds). */
export function usageFromHourly(row: HourlyUsage): UsageRow {
  const fromMs = Date.parse(row.hour);
  return {
    vmId: row.vmId,
    vmName: row.vmName,
    from: new Date(fromMs).toISOString(),
    to: new Date(fromMs + HOUR_MS).toISOString(),
    // In decimals: a fractional running time times vCPUs must not round in a float.
    vcpuSeconds: new Dec(row.vcpus).times(row.runningSeconds).toFixed(),
    memMibSeconds: row.memMibSeconds,
    diskGibSeconds: row.diskGibSeconds,
    replicaGibSeconds: row.replicaGibSeconds,
    networkInBytes: row.networkInBytes,
    networkOutBytes: row.networkOutBytes,
    ...(row.aclBytes === undefined ? {} : { aclBytes: row.aclBytes }),
  };
}
