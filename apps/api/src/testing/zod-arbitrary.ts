import fc from 'fast-check';
import type { z } from 'zod';

/**
 * Derives fast-check arbitraries from a zod 4 schema (its `_zod.def`), for the
 * generated-input property test: values shaped like what the schema accepts,
 * with hostile values mixed in at every leaf (control characters, lone
 * surrogates, 100k-character strings, extreme numbers, year 0 and +100000
 * dates, wrong types, extra keys, deep nesting). zod-fast-check speaks zod 3
 * only, hence this small walker.
 */

export interface DeriveOptions {
  /** Real ids of the database under test (tenants, VMs, hosts…): a uuid field picks one of them half the time, so calls reach past "not found". */
  ids: readonly string[];
  /** Weight of a hostile value against a plausible one at each leaf (0: plausible only). */
  hostileWeight: number;
}

type Def = { type: string } & Record<string, unknown>;
type CheckDef = { check: string } & Record<string, unknown>;

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

function checksOf(def: Def): CheckDef[] {
  const checks = (def.checks as { _zod: { def: CheckDef } }[] | undefined) ?? [];
  return checks.map((c) => c._zod.def);
}

// ------------------------------------------------------------------ hostile values

const CONTROL = fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f);
/** Any UTF-16 code unit, lone surrogates included. */
const ANY_UNIT = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'web\u0000',
    'a\u0000b',
    '\u001b[31mred',
    'line\nbreak',
    '\u0085',
    '\ud800',
    'x\udfff',
    '\udc00\ud800',
    '%',
    '_',
    '50%',
    '\\',
    '%_%\\',
    "'; DROP TABLE vms; --",
    '{{7*7}}',
    '\u202egnp.exe',
    '\u200b',
    'e\u0301',
    '株式会社',
    'Вектор',
    '😀',
    '',
    ' ',
    '\ufeff',
    '\uffff',
    '__proto__',
    'constructor',
  ),
  fc.integer({ min: 1, max: 100_000 }).map((n) => 'x'.repeat(n)),
  fc.constant('x'.repeat(100_000)),
  fc.constant('\u0000'.repeat(10_000)),
  fc.string({ unit: ANY_UNIT, maxLength: 40 }),
  fc
    .tuple(fc.string({ maxLength: 10 }), CONTROL, fc.string({ maxLength: 10 }))
    .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    2 ** 64,
    -(2 ** 63),
    1e21,
  ),
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);

export const hostileDate: fc.Arbitrary<Date> = fc.oneof(
  fc.constantFrom(
    new Date('0000-01-01T00:00:00Z'),
    new Date('+100000-01-01T00:00:00Z'),
    new Date('-100000-01-01T00:00:00Z'),
    new Date(8.64e15),
    new Date(-8.64e15),
    new Date(Number.NaN),
    new Date(0),
    new Date('9999-12-31T23:59:59.999Z'),
    new Date('10000-01-01T00:00:00Z'),
    new Date('1969-12-31T23:59:59.999Z'),
  ),
  fc.date({ noInvalidDate: false }),
);

/** An ISO-looking string that no calendar or Postgres takes. */
const hostileIsoString = fc.constantFrom(
  '0000-01-01T00:00:00Z',
  '+100000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '9999-12-31T23:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-13-01',
  '0000-00-00',
  '2026-11-01T24:00:00Z',
  '1900-01-01',
  '9999-12-31',
  '2026-11',
  '0000-01',
  '9999-12',
);

/** A value of the wrong type, or nested too deep to be anything the API expects. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, '', [], {}, 'string', 12.5, [null], { a: 1 }),
  fc.constant(nested(1_000)),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')),
  fc.bigInt(),
  fc.constant(new Map([['a', 1]])),
  fc.constant(new Set([1])),
  fc.constant(/regex/),
  fc.date(),
);

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { a: value };
  return value;
}

/** Anything at all: the whole input replaced by garbage. */
export const anyHostile: fc.Arbitrary<unknown> = fc.oneof(
  wrongType,
  hostileString,
  hostileNumber,
  hostileDate,
  fc.anything({ maxDepth: 3 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, hostileNumber, wrongType), { maxKeys: 4 }),
);

// ------------------------------------------------------------------ the walker

const HOUR_MS = 3_600_000;
/** Plausible instants: mostly near now, on whole hours half the time (periods and rollups ask for them). */
const plausibleDate = fc
  .tuple(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2200, 11, 31) }), fc.boolean(), fc.boolean())
  .map(([ms, nearNow, wholeHour]) => {
    const base = nearNow ? Date.now() + ((ms % (400 * 24 * HOUR_MS)) - 200 * 24 * HOUR_MS) : ms;
    return new Date(wholeHour ? Math.floor(base / HOUR_MS) * HOUR_MS : base);
  });

export function deriveArbitrary(schema: unknown, options: DeriveOptions): fc.Arbitrary<unknown> {
  return walk(schema, options, 0);
}

function withHostile<T>(plausible: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>, options: DeriveOptions) {
  if (options.hostileWeight <= 0) return plausible;
  return fc.oneof(
    { weight: 4, arbitrary: plausible as fc.Arbitrary<unknown> },
    { weight: options.hostileWeight, arbitrary: hostile },
    { weight: 1, arbitrary: wrongType },
  );
}

function walk(schema: unknown, options: DeriveOptions, depth: number): fc.Arbitrary<unknown> {
  if (depth > 12) return fc.constant(undefined);
  const def = defOf(schema);
  const next = (inner: unknown) => walk(inner, options, depth + 1);
  switch (def.type) {
    case 'string':
      return withHostile(plausibleString(def), fc.oneof(hostileString, hostileIsoString), options);
    case 'number': {
      const checks = checksOf(def);
      const min = checks.find((c) => c.check === 'greater_than')?.value as number | undefined;
      const max = checks.find((c) => c.check === 'less_than')?.value as number | undefined;
      const integer = checks.some((c) => c.check === 'number_format');
      const lo = Math.max(min ?? -1e6, -1e12);
      const hi = Math.min(max ?? 1e6, 1e12);
      const plausible = integer
        ? fc.integer({ min: Math.ceil(lo), max: Math.max(Math.ceil(lo), Math.floor(hi)) })
        : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
      // Edges and just past them catch off-by-ones at the bounds.
      const edges = fc.constantFrom(lo, hi, lo - 1, hi + 1);
      return withHostile(fc.oneof({ weight: 4, arbitrary: plausible }, edges), hostileNumber, options);
    }
    case 'bigint':
      return withHostile(fc.bigInt(), hostileNumber, options);
    case 'boolean':
      return withHostile(fc.boolean(), fc.constantFrom('true', 1, 0, 'false'), options);
    case 'date':
      return withHostile(plausibleDate, hostileDate, options);
    case 'enum': {
      const values = Object.values(def.entries as Record<string, string | number>);
      return withHostile(fc.constantFrom(...values), hostileString, options);
    }
    case 'literal':
      return withHostile(fc.constantFrom(...(def.values as unknown[])), hostileString, options);
    case 'null':
      return withHostile(fc.constant(null), wrongType, options);
    case 'undefined':
    case 'void':
      return fc.constant(undefined);
    case 'any':
    case 'unknown':
      return anyHostile;
    case 'never':
      return wrongType;
    case 'optional':
      return fc.option(next(def.innerType), { nil: undefined, freq: 4 });
    case 'nullable':
      return fc.option(next(def.innerType), { nil: null, freq: 4 });
    case 'default':
    case 'prefault':
      return fc.option(next(def.innerType), { nil: undefined, freq: 3 });
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return next(def.innerType);
    case 'pipe':
      // A transform's input is what the caller sends.
      return defOf(def.in).type === 'transform' ? next(def.out) : next(def.in);
    case 'transform':
      return anyHostile;
    case 'lazy':
      return next((def.getter as () => unknown)());
    case 'array': {
      const checks = checksOf(def);
      const minLength = (checks.find((c) => c.check === 'min_length')?.minimum as number | undefined) ?? 0;
      const maxLength = (checks.find((c) => c.check === 'max_length')?.maximum as number | undefined) ?? 5;
      const element = next(def.element);
      const plausible = fc.array(element, { minLength, maxLength: Math.min(Math.max(minLength, maxLength), 8) });
      // One past the limit (a 501-VM what-if), as copies of one plausible element: generating 501 distinct
      // ones is slow, and 10,001 copies of a hostile 100k-character string pass V8's longest string.
      const tooMany = walk(def.element, { ...options, hostileWeight: 0 }, depth + 1).map((e) =>
        Array.from({ length: Math.min(maxLength + 1, 10_001) }, () => e),
      );
      if (options.hostileWeight <= 0) return plausible;
      return withHostile(
        fc.oneof({ weight: 6, arbitrary: plausible }, { weight: 1, arbitrary: tooMany }),
        wrongType,
        options,
      );
    }
    case 'tuple':
      return withHostile(fc.tuple(...(def.items as unknown[]).map(next)), wrongType, options);
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const fields: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(shape)) fields[key] = next(value);
      const record = fc.record(fields, { requiredKeys: Object.keys(shape) });
      const withExtras = fc
        .tuple(record, fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'extra')), anyHostile))
        .map(([base, extra]) => ({ ...extra, ...base }));
      const catchall = def.catchall ? next(def.catchall) : null;
      const withCatchall = catchall
        ? fc
            .tuple(record, fc.dictionary(fc.string({ maxLength: 40 }), catchall, { maxKeys: 3 }))
            .map(([base, extra]) => ({ ...extra, ...base }))
        : record;
      // Plausible means no unknown keys either (they may carry 100k-character strings).
      if (options.hostileWeight <= 0) return withCatchall;
      return withHostile(
        fc.oneof({ weight: 5, arbitrary: withCatchall }, { weight: 1, arbitrary: withExtras }),
        wrongType,
        options,
      );
    }
    case 'record': {
      const keyDef = defOf(def.keyType);
      const keys =
        keyDef.type === 'enum'
          ? fc.constantFrom(...Object.values(keyDef.entries as Record<string, string>))
          : fc.oneof(fc.string({ maxLength: 40 }), hostileString);
      return withHostile(fc.dictionary(keys, next(def.valueType), { maxKeys: 4 }), wrongType, options);
    }
    case 'union': {
      const arms = (def.options as unknown[]).map(next);
      return fc.oneof(...arms);
    }
    case 'intersection':
      return fc
        .tuple(next(def.left), next(def.right))
        .map(([a, b]) =>
          typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? { ...a, ...b } : a,
        );
    case 'map':
      return withHostile(fc.constant(new Map()), wrongType, options);
    case 'set':
      return withHostile(fc.constant(new Set()), wrongType, options);
    default:
      throw new Error(`zod-arbitrary: no arbitrary for zod type '${def.type}'; add one`);
  }

  function plausibleString(stringDef: Def): fc.Arbitrary<string> {
    const checks = checksOf(stringDef);
    const format = (stringDef.format as string | undefined) ?? checks.find((c) => c.check === 'string_format')?.format;
    const minLength = (checks.find((c) => c.check === 'min_length')?.minimum as number | undefined) ?? 0;
    const maxLength = (checks.find((c) => c.check === 'max_length')?.maximum as number | undefined) ?? 64;
    switch (format) {
      case 'uuid':
      case 'guid':
        return options.ids.length ? fc.oneof(fc.constantFrom(...options.ids), fc.uuid()) : fc.uuid();
      case 'email':
        return fc.emailAddress();
      case 'datetime':
        return plausibleDate.map((d) => d.toISOString());
      case 'date':
        return plausibleDate.map((d) => d.toISOString().slice(0, 10));
    }
    const regex = checks.find((c) => c.check === 'string_format' && c.format === 'regex')?.pattern;
    const texts = fc.oneof(
      fc.string({ minLength, maxLength: Math.min(Math.max(minLength, maxLength), 80) }),
      fc.string({ unit: 'grapheme', minLength, maxLength: Math.min(Math.max(minLength, maxLength), 20) }),
    );
    if (regex instanceof RegExp) {
      try {
        // Ids and ids-like identifiers: both what the pattern allows and ids of the database.
        return fc.oneof(
          fc.stringMatching(regex),
          texts,
          ...(options.ids.length ? [fc.constantFrom(...options.ids)] : []),
        );
      } catch {
        return texts;
      }
    }
    return options.ids.length ? fc.oneof({ weight: 4, arbitrary: texts }, fc.constantFrom(...options.ids)) : texts;
  }
}

/** The input schema of a tRPC procedure (tRPC 11 keeps every `.input()` in `_def.inputs`; they merge). */
export function inputSchemaOf(procedure: unknown): z.ZodType | null {
  const inputs = (procedure as { _def: { inputs: z.ZodType[] } })._def.inputs;
  if (inputs.length > 1) throw new Error('zod-arbitrary: a procedure with several .input() calls; merge them here');
  return inputs[0] ?? null;
}
