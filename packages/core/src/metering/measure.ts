import { MEASURE_TOP_VMS, type MeasuredVm, type Measurement, type MeasureScope } from './measure.schema';
import type { MeasuredTotals } from './metering-repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface Span {
  fromMs: number;
  toMs: number;
}

/**
 * Where each part of a period is read from, so that the sum is exactly what
 * the raw samples say (Measure-VM's answer) while reading as few rows as
 * possible. A sample ending at `at` covers the interval before it: the period
 * holds the samples with from < at ≤ to, and the hourly rollup of hour h the
 * samples with h < at ≤ h + 1 h, so whole hours and days of the period are
 * exactly their rollups.
 */
export interface MeasureParts {
  /** (fromMs, toMs] from raw samples: the partial hours at either end, and whole hours whose rollup is pending. */
  raw: Span[];
  /** [fromMs, toMs) whole UTC hours from vm_usage_hourly: hours outside whole days, and days with a pending hour. */
  hours: Span[];
  /** [fromMs, toMs) whole UTC days from vm_usage_daily (none of their hours pending). */
  days: Span[];
}

function pushMerged(spans: Span[], fromMs: number, toMs: number) {
  const last = spans.at(-1);
  if (last && last.toMs === fromMs) last.toMs = toMs;
  else spans.push({ fromMs, toMs });
}

/**
 * Splits (fromMs, toMs] into raw, hourly and daily parts. `pendingHoursMs`
 * are the starts of hours whose samples changed since their rollup (late
 * samples): they, and the days holding them, are not read from rollups.
 */
export function planMeasureParts(fromMs: number, toMs: number, pendingHoursMs: readonly number[]): MeasureParts {
  const parts: MeasureParts = { raw: [], hours: [], days: [] };
  const h0 = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const h1 = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  if (h0 >= h1) {
    parts.raw.push({ fromMs, toMs });
    return parts;
  }
  if (fromMs < h0) parts.raw.push({ fromMs, toMs: h0 });
  const pending = new Set(pendingHoursMs.filter((h) => h >= h0 && h < h1));
  const dirtyDays = new Set([...pending].map((h) => Math.floor(h / DAY_MS) * DAY_MS));
  const d0 = Math.ceil(h0 / DAY_MS) * DAY_MS;
  const d1 = Math.floor(h1 / DAY_MS) * DAY_MS;
  for (let h = h0; h < h1; ) {
    if (h >= d0 && h < d1 && h % DAY_MS === 0 && !dirtyDays.has(h)) {
      pushMerged(parts.days, h, h + DAY_MS);
      h += DAY_MS;
      continue;
    }
    pushMerged(pending.has(h) ? parts.raw : parts.hours, h, h + HOUR_MS);
    h += HOUR_MS;
  }
  if (h1 < toMs) pushMerged(parts.raw, h1, toMs);
  return parts;
}

/** One VM's sums over the period, added up by the repository from all parts. */
export interface VmPeriodTotals extends MeasuredTotals {
  vmId: string;
  name: string;
  /** Seconds of samples during which the VM ran (held memory or used CPU). */
  runningSeconds: number;
}

/**
 * The measurement of many VMs: sums of their sums, minimum and maximum
 * memory over all of them, averages over the period's wall-clock seconds
 * (see measurementSchema), and the per-VM breakdown heaviest CPU user first
 * (ties by name, then id, so the order is stable).
 */
export function aggregateMeasurement(
  scope: { kind: MeasureScope['kind']; id: string },
  from: Date,
  to: Date,
  rows: readonly VmPeriodTotals[],
): Measurement {
  const periodSeconds = (to.getTime() - from.getTime()) / 1000;
  const sum = (f: (r: VmPeriodTotals) => number) => rows.reduce((acc, r) => acc + f(r), 0);
  const mins = rows.map((r) => r.memMinMiB).filter((v): v is number => v !== null);
  const maxes = rows.map((r) => r.memMaxMiB).filter((v): v is number => v !== null);
  const acls = new Map<string, { inBytes: number; outBytes: number }>();
  for (const row of rows) {
    for (const a of row.acls ?? []) {
      const acc = acls.get(a.acl) ?? { inBytes: 0, outBytes: 0 };
      acc.inBytes += a.inBytes;
      acc.outBytes += a.outBytes;
      acls.set(a.acl, acc);
    }
  }
  const perVm = (r: VmPeriodTotals): MeasuredVm => {
    // Measure-VM's own averages: per metered second.
    const per = (s: number) => (r.seconds > 0 ? s / r.seconds : 0);
    return {
      vmId: r.vmId,
      name: r.name,
      samples: r.samples,
      meteredSeconds: r.seconds,
      avgCpuMhz: per(r.cpuMhzSeconds),
      avgMemoryMiB: per(r.memMibSeconds),
      minMemoryMiB: r.memMinMiB ?? 0,
      maxMemoryMiB: r.memMaxMiB ?? 0,
      avgDiskGiB: per(r.diskGibSeconds),
      totalDiskGiB: r.lastDiskGiB ?? 0,
      cpuShareMhz: r.cpuMhzSeconds / periodSeconds,
      networkInBytes: r.netInInternet + r.netInDatacenter,
      networkOutBytes: r.netOutInternet + r.netOutDatacenter,
      runningVmHours: r.runningSeconds / 3600,
    };
  };
  const sorted = [...rows].sort(
    (a, b) =>
      b.cpuMhzSeconds - a.cpuMhzSeconds ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
      (a.vmId < b.vmId ? -1 : a.vmId > b.vmId ? 1 : 0),
  );
  return {
    scope,
    from,
    to,
    vmCount: rows.length,
    samples: sum((r) => r.samples),
    meteredSeconds: sum((r) => r.seconds),
    avgCpuMhz: sum((r) => r.cpuMhzSeconds) / periodSeconds,
    avgMemoryMiB: sum((r) => r.memMibSeconds) / periodSeconds,
    minMemoryMiB: mins.length ? Math.min(...mins) : 0,
    maxMemoryMiB: maxes.length ? Math.max(...maxes) : 0,
    avgDiskGiB: sum((r) => r.diskGibSeconds) / periodSeconds,
    totalDiskGiB: sum((r) => r.lastDiskGiB ?? 0),
    diskReadBytes: sum((r) => r.diskReadBytes),
    diskWriteBytes: sum((r) => r.diskWriteBytes),
    network: [
      {
        remoteAddress: 'internet',
        inboundBytes: sum((r) => r.netInInternet),
        outboundBytes: sum((r) => r.netOutInternet),
      },
      {
        remoteAddress: 'datacenter',
        inboundBytes: sum((r) => r.netInDatacenter),
        outboundBytes: sum((r) => r.netOutDatacenter),
      },
    ],
    // Byte order of names, as Measure-VM lists them (COLLATE "C").
    networkAcls: [...acls.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([acl, t]) => ({ acl, inboundBytes: t.inBytes, outboundBytes: t.outBytes })),
    runningVmHours: sum((r) => r.runningSeconds) / 3600,
    vms: sorted.slice(0, MEASURE_TOP_VMS).map(perVm),
    otherVms: Math.max(0, sorted.length - MEASURE_TOP_VMS),
  };
}
