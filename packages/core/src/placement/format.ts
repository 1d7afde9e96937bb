import { formatBytes, MIB } from '../shared/units';

/** "16 GiB", "3.1 GiB": whole units without ".0", as people write them in reasons. */
export function formatSize(bytes: number): string {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}

export function formatMemory(mib: number): string {
  return formatSize(mib * MIB);
}

// One formatter for the module: toLocaleString builds a new Intl.NumberFormat per call (tens of µs), which
// dominated a decision's time in the benchmark.
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatCount(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1000 ? String(n) : COUNT.format(n);
}

export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
