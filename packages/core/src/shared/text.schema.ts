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

/**
 * Characters that make a text display as something it is not, refused in
 * every text(): bidirectional controls (the embeddings and overrides
 * U+202A–U+202E and isolates U+2066–U+2069, the marks U+200E, U+200F and
 * U+061C) reorder what follows, so "\u202Eecila" prints as "alice"; each
 * rule has its own message, so a refusal says which rule it broke.
 */
const DECEPTIVE_RULES: ReadonlyArray<{ pattern: RegExp; says: string }> = [
  {
    pattern: /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u,
    says: 'must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which make text display in another order',
  },
  // Private use (U+E000–U+F8FF and planes 15–16): no meaning outside one font, invisible or anything elsewhere.
  { pattern: /\p{Co}/u, says: 'must not contain private-use characters (U+E000–U+F8FF, planes 15 and 16)' },
  // Tag characters: invisible, they can carry hidden text.
  { pattern: /[\u{E0000}-\u{E007F}]/u, says: 'must not contain tag characters (U+E0000–U+E007F)' },
  // U+FDD0–U+FDEF and the last two code points of every plane: never meant for interchange.
  {
    pattern: /\p{Noncharacter_Code_Point}/u,
    says: 'must not contain Unicode noncharacters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF)',
  },
];

/** At least one letter or digit of any script: what makes a name visible. */
const VISIBLE = /[\p{L}\p{N}]/u;
/**
 * Invisible format characters that have no place in a name: zero width
 * space, word joiner and the invisible operators, the BOM. Zero width
 * (non-)joiner stay: Persian, Indic scripts and emoji sequences need them.
 */
const INVISIBLE_IN_NAME = /[\u200B\u2060-\u2064\uFEFF\u180E]/u;

export interface TextOptions {
  /** Longest accepted value after trimming, in UTF-16 code units (what `.length` counts). */
  max: number;
  /** Shortest accepted value after trimming; 0 (the default) accepts an empty string. */
  min?: number;
  /** Keeps tab and line breaks (descriptions); names and filters are single-line. */
  multiline?: boolean;
  /**
   * A name people read (a tenant's, a user's, a disk's, a tag): it must hold
   * at least one letter or digit (of any script) and no invisible format
   * character, so a name of zero-width spaces or marks alone is refused.
   */
  name?: boolean;
}

/**
 * Trimmed, NFC-normalised text of bounded length without control characters.
 * `label` starts each message ("VM name must be at most 64 characters").
 * Returns a ZodString, so a field adds its own `.regex`, `.optional()` or `.default()`.
 */
export function text(label: string, options: TextOptions) {
  const { max, min = 0, multiline = false, name = false } = options;
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
  for (const rule of DECEPTIVE_RULES) {
    schema = schema.refine((value) => !rule.pattern.test(value), `${label} ${rule.says}`);
  }
  if (name) {
    schema = schema
      .refine(
        (value) => !INVISIBLE_IN_NAME.test(value),
        `${label} must not contain invisible characters (zero width space U+200B, word joiner U+2060–U+2064, U+FEFF)`,
      )
      // An empty optional value is left to `min`: only a value that has something must show something.
      .refine(
        (value) => value === '' || VISIBLE.test(value),
        `${label} must contain at least one visible letter or digit`,
      );
  }
  if (min > 0) {
    schema = schema.min(min, min === 1 ? `${label} is required` : `${label} must be at least ${min} characters`);
  }
  return schema;
}

/** The longest search the list filters accept (the console's search boxes stop there too). */
export const SEARCH_MAX_LENGTH = 100;

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

/**
 * A whole number from `min` to `max`, refused with its label and both limits whatever is wrong with it (text,
 * a fraction, 0, 1e9): zod's own "Invalid input: expected number, received string" and "Too small: expected
 * number to be >=1" name neither the field nor, for a wrong type, the range. `unit` follows the range (" %").
 */
export function wholeNumber(label: string, min: number, max: number, unit = '') {
  const says = `${label} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}${unit}`;
  return z.number({ error: says }).int(says).min(min, says).max(max, says);
}

/** true or false, refused with its label ("DHCP guard must be true or false"), not zod's "expected boolean". */
export function flag(label: string) {
  return z.boolean({ error: `${label} must be true or false` });
}

/**
 * One of a fixed set of words, refused with its label and the set ("Sort must be one of name, state, …"):
 * zod's own message names neither ("Invalid option: expected one of …").
 */
export function oneOf<const T extends readonly string[]>(label: string, values: T) {
  return z.enum(values, { error: `${label} must be one of ${values.join(', ')}` });
}
