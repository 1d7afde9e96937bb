import { ChargebackError } from './chargeback.errors';
import { Dec, formatDecimal, formatMoney, roundMoney } from './money';
import { type CardSegment, cardsInEffect, type RateCard, RESOURCE_UNITS, RESOURCES, type Resource } from './rate-card';
import { planPrice, type TenantPlan } from './tenant-plan';
import type { HourlyUsage, RatingPeriod } from './usage.schema';

export interface InvoiceLine {
  vmId: string;
  vmName: string;
  resource: Resource;
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
  /** Ordered by vmId, then resource (RESOURCES order), then card date. */
  lines: InvoiceLine[];
  /** Σ line amounts, exact (no further rounding). */
  subtotal: string;
  /** subtotal × percent / 100, rounded once; "0.00" when the plan has no discount. */
  discount: string;
  /** subtotal − discount, exact. */
  total: string;
}

const SECONDS_PER_HOUR = 3600;
const HOURS_PER_MONTH = 730;

/**
 * Each resource's quantity is (sum of a raw counter) / divisor. Summing the
 * raw counters first and dividing once keeps the result independent of the
 * order the rows arrive in: sums of finite decimals are exact, a division is
 * rounded to 40 digits only once.
 */
const DIVISORS: Record<Resource, Dec> = {
  vcpu: new Dec(SECONDS_PER_HOUR),
  memory: new Dec(1024 * SECONDS_PER_HOUR),
  disk: new Dec(SECONDS_PER_HOUR * HOURS_PER_MONTH),
  'replica-storage': new Dec(SECONDS_PER_HOUR * HOURS_PER_MONTH),
  'network-out-internet': new Dec(2).pow(30),
  'network-out-datacenter': new Dec(2).pow(30),
  'network-in-internet': new Dec(2).pow(30),
  'network-in-datacenter': new Dec(2).pow(30),
};

function rawCounter(row: HourlyUsage, resource: Resource): Dec {
  switch (resource) {
    case 'vcpu':
      return new Dec(row.vcpus).times(row.runningSeconds);
    case 'memory':
      return new Dec(row.memMibSeconds);
    case 'disk':
      return new Dec(row.diskGibSeconds);
    case 'replica-storage':
      return new Dec(row.replicaGibSeconds);
    case 'network-out-internet':
      return new Dec(row.networkOutBytes.internet);
    case 'network-out-datacenter':
      return new Dec(row.networkOutBytes.datacenter);
    case 'network-in-internet':
      return new Dec(row.networkInBytes.internet);
    case 'network-in-datacenter':
      return new Dec(row.networkInBytes.datacenter);
  }
}

interface VmAccumulator {
  vmName: string;
  latestHourMs: number;
  /** Per card segment (index into the segments array), per resource: the summed raw counter. */
  counters: Map<number, Map<Resource, Dec>>;
}

/** Code-unit order, not localeCompare: an invoice must not depend on the host's locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function segmentIndexAt(segments: readonly CardSegment[], ms: number): number {
  return segments.findIndex((segment) => segment.fromMs <= ms && ms < segment.toMs);
}

/**
 * Rates hourly usage for one tenant over `period` (half-open, whole hours).
 * Rows whose hour falls outside the period are ignored, so the caller may
 * pass a wider rollup. Pure: the same inputs, in any order, give the same
 * invoice.
 */
export function rateUsage(
  usage: readonly HourlyUsage[],
  cards: readonly RateCard[],
  plan: TenantPlan,
  period: RatingPeriod,
): Invoice {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to);
  const segments = cardsInEffect(cards, fromMs, toMs);
  const currency = segments[0]?.card.currency;
  if (currency === undefined) throw new ChargebackError('NO_RATE_CARD', 'No rate card is in effect in the period');

  // Accumulate in one canonical order (VM, then hour): the sums are then the
  // same digits whatever order the rows came in, even for counters whose
  // exact sum would need more than 40 significant digits.
  const rows = usage
    .map((row) => ({ row, hourMs: Date.parse(row.hour) }))
    .sort((a, b) => compareCodeUnits(a.row.vmId, b.row.vmId) || a.hourMs - b.hourMs);
  const seen = new Set<string>();
  const vms = new Map<string, VmAccumulator>();
  for (const { row, hourMs } of rows) {
    const key = `${row.vmId}\u0000${hourMs}`;
    if (seen.has(key)) {
      throw new ChargebackError('DUPLICATE_USAGE', `Usage for VM ${row.vmId} at ${row.hour} appears twice`);
    }
    seen.add(key);
    const segmentIndex = segmentIndexAt(segments, hourMs);
    if (segmentIndex < 0) continue;

    let vm = vms.get(row.vmId);
    if (vm === undefined) {
      vm = { vmName: row.vmName, latestHourMs: hourMs, counters: new Map() };
      vms.set(row.vmId, vm);
    }
    // A renamed VM is billed under its latest name in the period, whatever the row order.
    if (hourMs > vm.latestHourMs) {
      vm.vmName = row.vmName;
      vm.latestHourMs = hourMs;
    }
    let counters = vm.counters.get(segmentIndex);
    if (counters === undefined) {
      counters = new Map();
      vm.counters.set(segmentIndex, counters);
    }
    for (const resource of RESOURCES) {
      counters.set(resource, (counters.get(resource) ?? new Dec(0)).plus(rawCounter(row, resource)));
    }
  }

  const lines: InvoiceLine[] = [];
  let subtotal = new Dec(0);
  const vmIds = [...vms.keys()].sort(compareCodeUnits);
  for (const vmId of vmIds) {
    const vm = vms.get(vmId);
    if (vm === undefined) continue;
    for (const resource of RESOURCES) {
      for (const [segmentIndex, segment] of segments.entries()) {
        const counter = vm.counters.get(segmentIndex)?.get(resource);
        if (counter === undefined || counter.isZero()) continue;
        const quantity = counter.dividedBy(DIVISORS[resource]);
        const rate = planPrice(plan, segment.card.prices, resource);
        const amount = roundMoney(quantity.times(rate), currency);
        subtotal = subtotal.plus(amount);
        lines.push({
          vmId,
          vmName: vm.vmName,
          resource,
          quantity: formatDecimal(quantity),
          unit: RESOURCE_UNITS[resource],
          rate,
          amount: formatMoney(amount, currency),
          cardEffectiveFrom: segment.card.effectiveFrom,
        });
      }
    }
  }

  const discount =
    plan.kind === 'discount' ? roundMoney(subtotal.times(plan.percent).dividedBy(100), currency) : new Dec(0);
  return {
    currency,
    period: { from: period.from, to: period.to },
    lines,
    subtotal: formatMoney(subtotal, currency),
    discount: formatMoney(discount, currency),
    total: formatMoney(subtotal.minus(discount), currency),
  };
}
