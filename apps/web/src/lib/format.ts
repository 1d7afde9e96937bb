import { formatBytes as coreFormatBytes, MIB } from '@fabric/core/shared/units';

/** Binary units from core, without a trailing ".0" ("64 GiB", "9.8 TiB"). */
export function formatBytes(bytes: number): string {
  return coreFormatBytes(bytes).replace(/\.0 /, ' ');
}

export function formatMiB(mib: number): string {
  return formatBytes(mib * MIB);
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** Logical processors, the unit Hyper-V counts compute capacity in. */
export function formatLPs(value: number): string {
  return `${integer.format(value)} LP${value === 1 ? '' : 's'}`;
}

/** Link speed from megabits per second: 1000 Mbps reads better as 1 Gbps. */
export function formatMbps(mbps: number | null | undefined): string {
  if (mbps == null || mbps <= 0) return '—';
  if (mbps >= 1000) {
    const gbps = mbps / 1000;
    return `${Number.isInteger(gbps) ? gbps : gbps.toFixed(1)} Gbps`;
  }
  return `${integer.format(mbps)} Mbps`;
}

export function formatMhz(mhz: number | null | undefined): string {
  if (mhz == null || mhz <= 0) return '—';
  return mhz >= 1000 ? `${(mhz / 1000).toFixed(2)} GHz` : `${integer.format(mhz)} MHz`;
}

export function ratio(used: number, capacity: number): number {
  if (capacity <= 0) return 0;
  return Math.min(1, Math.max(0, used / capacity));
}

export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago"; the caller re-renders it on a tick. */
export function formatRelative(value: Date | string | number | null | undefined, now: number): string {
  if (value == null) return 'never';
  const seconds = Math.round((now - toDate(value).getTime()) / 1000);
  if (seconds < 0) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "in 42 min", "in 3 h" for expiry times; past times read as relative. */
export function formatUntil(value: Date | string | number, now: number): string {
  const seconds = Math.round((toDate(value).getTime() - now) / 1000);
  if (seconds <= 0) return formatRelative(value, now);
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.floor(hours / 24)} d`;
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

const dateOnly = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit' });

export function formatDateTime(value: Date | string | number | null | undefined): string {
  if (value == null) return '—';
  return dateTime.format(toDate(value));
}

export function formatDate(value: Date | string | number | null | undefined): string {
  if (value == null) return '—';
  return dateOnly.format(toDate(value));
}
