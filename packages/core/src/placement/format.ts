import { formatBytes, MIB } from '../shared/units';

/** "16 GiB", "3.1 GiB": whole units without ".0", as people write them in reasons. */
export function formatSize(bytes: number): string {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}

export function formatMemory(mib: number): string {
  return formatSize(mib * MIB);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
