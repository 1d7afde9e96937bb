import { ChargebackError } from './chargeback.errors';
import { CounterSum, formatMinor } from './exact-line';
import { Dec, formatMoney, roundMoney } from './money';
import {
  type AclResource,
  aclPriceOf,
  aclResource,
  type CardSegment,
  pricedPeriod,
  type RateCard,
  RESOURCE_UNITS,
  RESOURCES,
  type Resource,
} from './rate-card';
import { planPrice, type TenantPlan } from './tenant-plan';
import { type Counter, type HourlyUsage, type RatingPeriod, type UsageRow, usageFromHourly } from './usage.schema';

export interface InvoiceLine {
  vmId: string;
  vmName: string;
  /** A fixed resource, or `network-out:<class>` / `network-in:<class>` for a metered address class. */
  resource: Resource | AclResource;
  /** Exact decimal (up to 40 significant digits); a display rounds it, the bill does not. */
  quantity: string;
  unit: (typeof RESOURCE_UNITS)[Resource];
  /** Price per unit actually charged (the card's, or the tenant's override). */
  rate: string;
  /** quantity × rate, rounded once (see `roundMoney`). */
  amount: string;
  /** The card this line is priced under; lines split where the card changes. */
  cardEffectiveFrom: string;
}

export interface Invoice {
  currency: string;
  period: RatingPeriod;
  /**
   * Ordered by vmId, then resource (RESOURCES order), then card date; a VM's
   * metered-class lines (`network-out:<class>`, `network-in:<class>`) follow
   * its fixed ones, by class name, out before in, then card date.
   */
  lines: InvoiceLine[];
  /** Σ line amounts, exact (no further rounding). */
  subtotal: string;
  /** subtotal × percent / 100, rounded once; "0.00" when the plan has no discount. */
  discount: string;
  /** subtotal − discount, exact. */
  total: string;
  /**
   * Present when the period starts before the first rate card: the instant
   * that card took effect (00:00 UTC, e.g. "2026-11-20T00:00:00Z"). The
   * hours before it are not charged, as no price was in effect. Absent (the
   * API says null) when the whole period is priced; optional so invoices
   * built before it existed still type-check.
   */
  unpricedBefore?: string;
}

const SECONDS_PER_HOUR = 3600;
const HOURS_PER_MONTH = 730;

/**
 * Each resource's quantity is (sum of a raw counter) / divisor. Summing the
 * raw counters first and dividing once keeps the result independent of the
 * order the rows arrive in: sums of finite decimals are exact, a division is
 * rounded to 40 digits only once (see `CounterSum`).
 */
const DIVISORS: Record<Resource, number> = {
  vcpu: SECONDS_PER_HOUR,
  memory: 1024 * SECONDS_PER_HOUR,
  disk: SECONDS_PER_HOUR * HOURS_PER_MONTH,
  'replica-storage': SECONDS_PER_HOUR * HOURS_PER_MONTH,
  'network-out-internet': 2 ** 30,
  'network-out-datacenter': 2 ** 30,
  'network-in-internet': 2 ** 30,
  'network-in-datacenter': 2 ** 30,
};

function rawCounter(row: UsageRow, resource: Resource): Counter {
  switch (resource) {
    case 'vcpu':
      return row.vcpuSeconds;
    case 'memory':
      return row.memMibSeconds;
    case 'disk':
      return row.diskGibSeconds;
    case 'replica-storage':
      return row.replicaGibSeconds;
    case 'network-out-internet':
      return row.networkOutBytes.internet;
    case 'network-out-datacenter':
      return row.networkOutBytes.datacenter;
    case 'network-in-internet':
      return row.networkInBytes.internet;
    case 'network-in-datacenter':
      return row.networkInBytes.datacenter;
  }
}

interface VmAccumulator {
  vmName: string;
  latestEndMs: number;
  /** Per card segment (index into the segments array): per resource (RESOURCES order), the summed raw counter. */
  counters: Map<number, (CounterSum | undefined)[]>;
  /** Per card segment: per metered address class, bytes out and in (absent for usage without ACLs). */
  acls?: Map<number, Map<string, { out: CounterSum; in: CounterSum }>>;
}

/** A metered class's bytes are priced per GiB, like the fixed classes. */
const ACL_DIVISOR = 2 ** 30;
const ACL_DIRECTIONS = ['out', 'in'] as const;

/** Code-unit order, not localeCompare: an invoice must not depend on the host's locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function segmentIndexAt(segments: readonly CardSegment[], ms: number): number {
  return segments.findIndex((segment) => segment.fromMs <= ms && ms < segment.toMs);
}

/** One tenant's usage summed per VM, card segment and resource: what every line is computed from. */
interface Accumulated {
  currency: string;
  segments: CardSegment[];
  unpricedBefore: string | null;
  vms: Map<string, VmAccumulator>;
  /** VM ids in code-unit order: the invoice's order. */
  vmIds: string[];
}

function accumulate(
  usage: readonly (UsageRow | HourlyUsage)[],
  cards: readonly RateCard[],
  period: RatingPeriod,
): Accumulated {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to);
  const { currency, segments, unpricedBefore } = pricedPeriod(cards, fromMs, toMs);
  /** Hours before this instant are in the period but before the first card. */
  const pricedFromMs = segments[0]?.fromMs ?? toMs;

  // Accumulate in one canonical order (VM, then start): the sums are then the
  // same digits whatever order the rows came in, even for counters whose
  // exact sum would need more than 40 significant digits.
  const rows = usage
    .map((given) => {
      const row = 'hour' in given ? usageFromHourly(given) : given;
      return { row, startMs: Date.parse(row.from), endMs: Date.parse(row.to) };
    })
    .sort((a, b) => compareCodeUnits(a.row.vmId, b.row.vmId) || a.startMs - b.startMs || a.endMs - b.endMs);
  const vms = new Map<string, VmAccumulator>();
  let previous: (typeof rows)[number] | undefined;
  for (const current of rows) {
    const { row, startMs, endMs } = current;
    if (previous !== undefined && previous.row.vmId === row.vmId && startMs < previous.endMs) {
      throw new ChargebackError(
        'DUPLICATE_USAGE',
        `Usage for VM ${row.vmId} from ${row.from} overlaps usage already counted (from ${previous.row.from})`,
      );
    }
    previous = current;
    if (endMs <= fromMs || startMs >= toMs || endMs <= pricedFromMs) continue;
    const segmentIndex = segmentIndexAt(segments, startMs);
    const segment = segments[segmentIndex];
    if (startMs < fromMs || endMs > toMs || segment === undefined || endMs > segment.toMs) {
      throw new ChargebackError(
        'USAGE_SPAN',
        `Usage for VM ${row.vmId} from ${row.from} to ${row.to} is not inside one priced part of the period`,
      );
    }

    let vm = vms.get(row.vmId);
    if (vm === undefined) {
      vm = { vmName: row.vmName, latestEndMs: endMs, counters: new Map() };
      vms.set(row.vmId, vm);
    }
    // A renamed VM is billed under its latest name in the period, whatever the row order.
    if (endMs > vm.latestEndMs) {
      vm.vmName = row.vmName;
      vm.latestEndMs = endMs;
    }
    let counters = vm.counters.get(segmentIndex);
    if (counters === undefined) {
      counters = [];
      vm.counters.set(segmentIndex, counters);
    }
    for (const [r, resource] of RESOURCES.entries()) {
      const value = rawCounter(row, resource);
      if (value === 0 || value === '0') continue;
      let sum = counters[r];
      if (sum === undefined) {
        sum = new CounterSum();
        counters[r] = sum;
      }
      sum.add(value);
    }
    if (row.aclBytes !== undefined) {
      vm.acls ??= new Map();
      let perClass = vm.acls.get(segmentIndex);
      if (perClass === undefined) {
        perClass = new Map();
        vm.acls.set(segmentIndex, perClass);
      }
      for (const [acl, bytes] of Object.entries(row.aclBytes)) {
        let sums = perClass.get(acl);
        if (sums === undefined) {
          sums = { out: new CounterSum(), in: new CounterSum() };
          perClass.set(acl, sums);
        }
        if (bytes.outBytes !== 0 && bytes.outBytes !== '0') sums.out.add(bytes.outBytes);
        if (bytes.inBytes !== 0 && bytes.inBytes !== '0') sums.in.add(bytes.inBytes);
      }
    }
  }

  return { currency, segments, unpricedBefore, vms, vmIds: [...vms.keys()].sort(compareCodeUnits) };
}

function totals(subtotalMinor: bigint, plan: TenantPlan, currency: string) {
  const subtotal = new Dec(formatMinor(subtotalMinor, currency));
  const discount =
    plan.kind === 'discount' ? roundMoney(subtotal.times(plan.percent).dividedBy(100), currency) : new Dec(0);
  return {
    subtotal: formatMoney(subtotal, currency),
    discount: formatMoney(discount, currency),
    total: formatMoney(subtotal.minus(discount), currency),
  };
}

const unpricedField = (unpricedBefore: string | null) =>
  unpricedBefore === null ? {} : { unpricedBefore: `${unpricedBefore}T00:00:00Z` };

/**
 * Rates one tenant's usage over `period` (half-open, whole hours). A usage
 * row covers an hour, a day or any span one card prices whole (an hourly
 * rollup row is read as a one-hour span); rows wholly
 * outside the period are ignored, so the caller may pass a wider rollup, and
 * so are rows before the first rate card (`unpricedBefore`). Pure: the same
 * inputs, in any order and whether as hours, days or per-card sums, give the
 * same invoice, because each line's counter is an exact sum divided once.
 */
/** Every line of an accumulated usage, in invoice order; with `keepLines` false only their amounts are computed. */
function lineItems(acc: Accumulated, plan: TenantPlan, keepLines: boolean) {
  const { currency, segments, vms, vmIds } = acc;
  const lines: InvoiceLine[] = [];
  let subtotalMinor = 0n;
  let lineCount = 0;
  let vmCount = 0;
  for (const vmId of vmIds) {
    const vm = vms.get(vmId);
    if (vm === undefined) continue;
    const linesBefore = lineCount;
    for (const [r, resource] of RESOURCES.entries()) {
      for (const [segmentIndex, segment] of segments.entries()) {
        const counter = vm.counters.get(segmentIndex)?.[r];
        if (counter === undefined || counter.isZero()) continue;
        const rate = planPrice(plan, segment.card.prices, resource);
        // quantity = counter / divisor, amount = quantity × rate rounded once (see `roundMoney`).
        const { quantity, amountMinor } = counter.line(DIVISORS[resource], rate, currency, keepLines);
        subtotalMinor += amountMinor;
        lineCount++;
        if (keepLines)
          lines.push({
            vmId,
            vmName: vm.vmName,
            resource,
            quantity,
            unit: RESOURCE_UNITS[resource],
            rate,
            amount: formatMinor(amountMinor, currency),
            cardEffectiveFrom: segment.card.effectiveFrom,
          });
      }
    }
    // Metered address classes after the fixed resources: by class, out then in, then card. A class
    // the card in effect does not price is listed at rate 0 (its traffic shown, not charged).
    if (vm.acls !== undefined) {
      const classes = [...new Set([...vm.acls.values()].flatMap((perClass) => [...perClass.keys()]))].sort(
        compareCodeUnits,
      );
      for (const acl of classes) {
        for (const direction of ACL_DIRECTIONS) {
          for (const [segmentIndex, segment] of segments.entries()) {
            const counter = vm.acls.get(segmentIndex)?.get(acl)?.[direction];
            if (counter === undefined || counter.isZero()) continue;
            const rate = aclPriceOf(segment.card.prices, direction, acl) ?? '0';
            const { quantity, amountMinor } = counter.line(ACL_DIVISOR, rate, currency, keepLines);
            subtotalMinor += amountMinor;
            lineCount++;
            if (keepLines)
              lines.push({
                vmId,
                vmName: vm.vmName,
                resource: aclResource(direction, acl),
                quantity,
                unit: 'GiB',
                rate,
                amount: formatMinor(amountMinor, currency),
                cardEffectiveFrom: segment.card.effectiveFrom,
              });
          }
        }
      }
    }
    if (lineCount > linesBefore) vmCount++;
  }
  return { lines, subtotalMinor, lineCount, vmCount };
}

export function rateUsage(
  usage: readonly (UsageRow | HourlyUsage)[],
  cards: readonly RateCard[],
  plan: TenantPlan,
  period: RatingPeriod,
): Invoice {
  const acc = accumulate(usage, cards, period);
  const { currency, unpricedBefore } = acc;
  const { lines, subtotalMinor } = lineItems(acc, plan, true);
  return {
    currency,
    period: { from: period.from, to: period.to },
    lines,
    ...totals(subtotalMinor, plan, currency),
    ...unpricedField(unpricedBefore),
  };
}

/** An invoice's totals and counts, without its lines. */
export interface InvoiceTotals {
  currency: string;
  subtotal: string;
  discount: string;
  total: string;
  /** VMs with at least one line. */
  vmCount: number;
  lineCount: number;
  unpricedBefore?: string;
}

/**
 * `rateUsage`'s totals without building its lines (a report of every tenant
 * needs only these): the same amounts, rounded the same way, by the same
 * code, so each equals the bill's to the cent.
 */
export function rateUsageTotals(
  usage: readonly (UsageRow | HourlyUsage)[],
  cards: readonly RateCard[],
  plan: TenantPlan,
  period: RatingPeriod,
): InvoiceTotals {
  const acc = accumulate(usage, cards, period);
  const { subtotalMinor, vmCount, lineCount } = lineItems(acc, plan, false);
  return {
    currency: acc.currency,
    ...totals(subtotalMinor, plan, acc.currency),
    vmCount,
    lineCount,
    ...unpricedField(acc.unpricedBefore),
  };
}
