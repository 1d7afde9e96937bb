/**
 * Axis arithmetic for the SVG charts: "nice" ticks (1, 2, 2.5, 5 × 10^n) from
 * zero to at least the data's maximum, and UTC time labels.
 */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if ((ticks.at(-1) ?? 0) < max) ticks.push(Number(((ticks.at(-1) ?? 0) + step).toPrecision(12)));
  return ticks;
}

/** Up to `count` evenly spaced indexes of `length` points, always including the first. */
export function tickIndexes(length: number, count = 6): number[] {
  if (length <= 0) return [];
  const every = Math.max(1, Math.ceil(length / count));
  const out: number[] = [];
  for (let i = 0; i < length; i += every) out.push(i);
  return out;
}

/**
 * Where to label the time axis: at UTC midnights for hourly points over
 * several days, at every third hour within a day, else evenly; thinned to
 * at most `count` labels.
 */
export function timeTickIndexes(times: readonly Date[], bucket: TimeBucket, count: number): number[] {
  const n = times.length;
  const spanMs = n > 1 ? (times[n - 1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0) : 0;
  const step = bucket === 'hour' ? (spanMs > 36 * 3_600_000 ? 24 : 3) : 1;
  const candidates = times.flatMap((t, i) => (bucket !== 'hour' || t.getUTCHours() % step === 0 ? [i] : []));
  if (candidates.length === 0) return tickIndexes(n, count);
  const every = Math.max(1, Math.ceil(candidates.length / Math.max(1, count)));
  return candidates.filter((_, k) => k % every === 0);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * A binary unit for a byte axis, chosen from the largest value, so ticks are
 * round numbers of that unit ("0, 1, 2, 3 GiB") rather than round numbers of
 * bytes shown in GiB ("954 MiB, 1.9 GiB").
 */
export function byteScale(maxBytes: number): { divisor: number; unit: string } {
  let power = 0;
  while (power < BINARY_UNITS.length - 1 && maxBytes >= 1024 ** (power + 1)) power += 1;
  return { divisor: 1024 ** power, unit: BINARY_UNITS[power] ?? 'B' };
}

const hourLabel = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
  timeZone: 'UTC',
});
const dayLabel = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const monthLabel = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
const fullLabel = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
  timeZone: 'UTC',
});

export type TimeBucket = 'hour' | 'day' | 'month';

/** An axis label: hours of one day read as "14:00", longer spans as "20 Nov" (UTC). */
export function axisTimeLabel(date: Date, bucket: TimeBucket, spanMs: number): string {
  if (bucket === 'month') return monthLabel.format(date);
  if (bucket === 'hour' && spanMs <= 36 * 3_600_000) return hourLabel.format(date);
  return dayLabel.format(date);
}

/** A bucket's full label for tooltips and tables: "20 Nov 2026, 14:00 UTC", "20 Nov 2026 (UTC)". */
export function bucketLabel(date: Date, bucket: TimeBucket): string {
  if (bucket === 'hour') return `${fullLabel.format(date)} UTC`;
  if (bucket === 'month') return monthLabel.format(date);
  return `${dayLabel.format(date)} ${date.getUTCFullYear()}`;
}

/**
 * Series colours: mid-tone hues readable on both the light and the dark
 * surface (the first is the accent token); axes and grid use the tokens.
 */
export const SERIES_COLORS = [
  'var(--accent)',
  '#12b886',
  '#f59f00',
  '#e64980',
  '#7950f2',
  '#15aabf',
  '#82c91e',
  '#fa5252',
] as const;

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length] ?? 'var(--accent)';
}
