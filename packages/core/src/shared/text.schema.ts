import { z } from 'zod';

/**
 * The primitives every input schema builds its strings and dates from, so a
 * value Postgres cannot store (a NUL byte, a lone surrogate, year 0) is the
 * caller's 400 at the edge instead of our 500 from the driver — and agents,
 * told to retry a 5xx for ever, are not retrying a bad value for ever.
 */

/**
 * C0 and C1 control characters (\p{Cc}: U+0000–U+001F, U+007F–U+009F) and
 * lone UTF-16 surrogates (\p{Cs} matches only unpaired halves under /u):
 * Postgres refuses NUL in text (22021), a lone surrogate is not UTF-8 and
 * would be stored as U+FFFD, and the others only hide or garble a name.
 */
const NO_CONTROL = /^[^\p{Cc}\p{Cs}]*$/u;
/** Multi-line text (descriptions, notes) keeps tab, line feed and carriage return. */
const NO_CONTROL_BUT_LINES = /^(?:[^\p{Cc}\p{Cs}]|[\t\n\r])*$/u;

export interface TextOptions {
  /** Longest accepted value after trimming, in UTF-16 code units (what `.length` counts). */
  max: number;
  /** Shortest accepted value after trimming; 0 (the default) accepts an empty string. */
  min?: number;
  /** Keeps tab and line breaks (descriptions); names and filters are single-line. */
  multiline?: boolean;
}

/**
 * Trimmed, NFC-normalised text of bounded length without control characters.
 * `label` starts each message ("VM name must be at most 64 characters").
 * Returns a ZodString, so a field adds its own `.regex`, `.optional()` or `.default()`.
 */
export function text(label: string, options: TextOptions) {
  const { max, min = 0, multiline = false } = options;
  let schema = z
    .string({ error: `${label} must be text` })
    .trim()
    // NFC so that "é" typed as e + U+0301 and as U+00E9 is one name (uniqueness, search).
    .normalize('NFC')
    .regex(
      multiline ? NO_CONTROL_BUT_LINES : NO_CONTROL,
      multiline
        ? `${label} must not contain control characters other than tabs and line breaks`
        : `${label} must not contain control characters or line breaks`,
    )
    .max(max, `${label} must be at most ${max.toLocaleString('en-US')} characters`);
  if (min > 0) {
    schema = schema.min(min, min === 1 ? `${label} is required` : `${label} must be at least ${min} characters`);
  }
  return schema;
}

/**
 * A free-text search or filter: optional, and an empty one (after trimming)
 * means "no filter". Its `%` and `_` are literal: repositories escape them
 * with `likePattern` before building a LIKE / ILIKE.
 */
export function searchText(label: string, max: number) {
  return text(label, { max })
    .transform((value) => (value === '' ? undefined : value))
    .optional();
}

/**
 * `value` as a LIKE / ILIKE pattern that matches it anywhere, literally: a
 * search for "50%" finds "50%" and not "500". Use with `ESCAPE '\'` (Postgres's
 * default escape character, which Prisma's `contains` also uses).
 */
export function likePattern(value: string): string {
  return `%${escapeLike(value)}%`;
}

/** Escapes LIKE's wildcards (`%`, `_`) and its escape character (`\`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The dates Fabric accepts: 2000-01-01 through 2200-12-31 UTC. Nothing it
 * meters or bills lies outside, and Postgres, the JSON encoders and the
 * PDF/CSV writers all handle every instant inside it (year 0 or +100000 do
 * not all survive the round trip).
 */
export const DATE_RANGE = {
  minYear: 2000,
  maxYear: 2200,
  min: new Date(Date.UTC(2000, 0, 1)),
  /** Exclusive: the first instant of 2201. */
  endExclusive: new Date(Date.UTC(2201, 0, 1)),
} as const;

const dateRangeMessage = (label: string) =>
  `${label} must be between the years ${DATE_RANGE.minYear} and ${DATE_RANGE.maxYear}`;

function inDateRange(ms: number): boolean {
  return ms >= DATE_RANGE.min.getTime() && ms < DATE_RANGE.endExclusive.getTime();
}

/** A Date (tRPC's superjson carries Date objects) within DATE_RANGE. */
export function dateInRange(label: string) {
  return z
    .date({ error: `${label} must be a valid date` })
    .refine((d) => inDateRange(d.getTime()), dateRangeMessage(label));
}

/** An ISO 8601 UTC date-time string (…Z) within DATE_RANGE: the agent protocol's timestamps. */
export function isoDateTimeInRange(label: string) {
  return z.iso
    .datetime({ error: `${label} must be an ISO 8601 date-time` })
    .refine((s) => inDateRange(Date.parse(s)), dateRangeMessage(label));
}

/** An ISO calendar date (YYYY-MM-DD) within DATE_RANGE. */
export function isoDateInRange(label: string) {
  return z.iso
    .date({ error: `${label} must be a date (YYYY-MM-DD)` })
    .refine((s) => inDateRange(Date.parse(`${s}T00:00:00Z`)), dateRangeMessage(label));
}
