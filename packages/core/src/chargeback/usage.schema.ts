import { z } from 'zod';

/** An instant on a whole UTC hour, e.g. "2026-11-01T13:00:00Z". */
const wholeHourSchema = z.iso
  .datetime()
  .refine((value) => Date.parse(value) % 3_600_000 === 0, 'Must fall on a whole UTC hour');

const counterSchema = z.number().nonnegative().finite();
const bytesSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const bytesPerClassSchema = z.object({ internet: bytesSchema, datacenter: bytesSchema });

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
  memMibSeconds: counterSchema,
  /** Allocated disk GiB × seconds. */
  diskGibSeconds: counterSchema,
  /** Replica storage GiB × seconds; 0 for a VM without a replica. */
  replicaGibSeconds: counterSchema.default(0),
  networkInBytes: bytesPerClassSchema,
  networkOutBytes: bytesPerClassSchema,
});

/** Half-open [from, to), both on whole UTC hours. */
export const ratingPeriodSchema = z
  .object({ from: wholeHourSchema, to: wholeHourSchema })
  .refine((period) => Date.parse(period.from) < Date.parse(period.to), 'A period must end after it starts');

export type HourlyUsage = z.infer<typeof hourlyUsageSchema>;
export type RatingPeriod = z.infer<typeof ratingPeriodSchema>;
