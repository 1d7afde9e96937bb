import type { z } from 'zod';
import { ChargebackError } from './chargeback.errors';
import type { addressClassSchema, rateCardSchema, ratePricesSchema } from './rate-card.schema';

export type AddressClass = z.infer<typeof addressClassSchema>;
export type RatePrices = z.infer<typeof ratePricesSchema>;
export type RateCard = z.infer<typeof rateCardSchema>;

/** Every billed resource, in the order lines are listed on an invoice. */
export const RESOURCES = [
  'vcpu',
  'memory',
  'disk',
  'replica-storage',
  'network-out-internet',
  'network-out-datacenter',
  'network-in-internet',
  'network-in-datacenter',
] as const;
export type Resource = (typeof RESOURCES)[number];

/**
 * A line for a metered address class (metered port ACL): `network-out:<class>`
 * or `network-in:<class>`, per GiB. Listed per VM after the fixed resources,
 * by class name (code-unit order), out before in.
 */
export type AclResource = `network-out:${string}` | `network-in:${string}`;

export function aclResource(direction: 'out' | 'in', acl: string): AclResource {
  return direction === 'out' ? `network-out:${acl}` : `network-in:${acl}`;
}

/** The card's price for a metered class, or null when the card does not price it (not charged). */
export function aclPriceOf(prices: RatePrices, direction: 'out' | 'in', acl: string): string | null {
  const perClass: Record<string, string | undefined> = direction === 'out' ? prices.networkOutGiB : prices.networkInGiB;
  return acl === 'internet' || acl === 'datacenter' ? null : (perClass[acl] ?? null);
}

/** Metered classes a card prices (beyond internet and datacenter), by name. */
export function pricedAclClasses(prices: RatePrices): string[] {
  const names = new Set([...Object.keys(prices.networkOutGiB), ...Object.keys(prices.networkInGiB)]);
  names.delete('internet');
  names.delete('datacenter');
  return [...names].sort();
}

export const RESOURCE_UNITS = {
  vcpu: 'vCPU-hour',
  memory: 'GiB-hour',
  disk: 'GiB-month',
  'replica-storage': 'GiB-month',
  'network-out-internet': 'GiB',
  'network-out-datacenter': 'GiB',
  'network-in-internet': 'GiB',
  'network-in-datacenter': 'GiB',
} as const satisfies Record<Resource, string>;

export function priceOf(prices: RatePrices, resource: Resource): string {
  switch (resource) {
    case 'vcpu':
      return prices.vcpuHour;
    case 'memory':
      return prices.memoryGiBHour;
    case 'disk':
      return prices.diskGiBMonth;
    case 'replica-storage':
      return prices.replicaStorageGiBMonth;
    case 'network-out-internet':
      return prices.networkOutGiB.internet;
    case 'network-out-datacenter':
      return prices.networkOutGiB.datacenter;
    case 'network-in-internet':
      return prices.networkInGiB.internet;
    case 'network-in-datacenter':
      return prices.networkInGiB.datacenter;
  }
}

/** A half-open period [from, to) in epoch milliseconds (UTC). */
export interface PeriodMs {
  fromMs: number;
  toMs: number;
}

export interface CardSegment extends PeriodMs {
  card: RateCard;
}

export function effectiveFromMs(card: RateCard): number {
  return Date.parse(`${card.effectiveFrom}T00:00:00Z`);
}

/**
 * Splits [fromMs, toMs) at the effective dates of `cards`: each segment is
 * priced by the latest card that took effect at or before its start. Cards
 * are sorted here, so their order in the input does not matter. A change of
 * card never reaches back: a closed period is simply never passed in.
 *
 * Hours before the first card are in no segment: nothing prices them, so
 * they are not charged (`unpricedBefore` says from when the period is
 * priced). Only a provider without any card is refused (NO_RATE_CARD).
 */
export function cardsInEffect(cards: readonly RateCard[], fromMs: number, toMs: number): CardSegment[] {
  return pricedPeriod(cards, fromMs, toMs).segments;
}

export interface PricedPeriod {
  currency: string;
  segments: CardSegment[];
  /** The first card's date when the period starts before it (those hours are not charged), else null. */
  unpricedBefore: string | null;
}

export function pricedPeriod(cards: readonly RateCard[], fromMs: number, toMs: number): PricedPeriod {
  if (!(fromMs < toMs)) throw new ChargebackError('INVALID_PERIOD', 'A period must end after it starts');
  const sorted = [...cards].sort((a, b) => effectiveFromMs(a) - effectiveFromMs(b));
  for (let i = 1; i < sorted.length; i += 1) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (previous === undefined || current === undefined) continue;
    if (previous.effectiveFrom === current.effectiveFrom) {
      throw new ChargebackError('DUPLICATE_EFFECTIVE_DATE', `Two rate cards take effect on ${current.effectiveFrom}`);
    }
    if (previous.currency !== current.currency) {
      throw new ChargebackError('CURRENCY_MISMATCH', 'All rate cards of a provider must use one currency');
    }
  }
  const first = sorted[0];
  if (first === undefined) throw new ChargebackError('NO_RATE_CARD', 'No rate card has been defined yet');
  const segments: CardSegment[] = [];
  for (const [i, card] of sorted.entries()) {
    const next = sorted[i + 1];
    const start = Math.max(effectiveFromMs(card), fromMs);
    const end = Math.min(next === undefined ? Number.POSITIVE_INFINITY : effectiveFromMs(next), toMs);
    if (start < end) segments.push({ card, fromMs: start, toMs: end });
  }
  return {
    currency: first.currency,
    segments,
    unpricedBefore: effectiveFromMs(first) > fromMs ? first.effectiveFrom : null,
  };
}
