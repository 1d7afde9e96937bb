import { z } from 'zod';
import { isoDateInRange, oneOf } from '../shared/text.schema';

/** A price per unit: a plain decimal string, at most 6 decimals, never a float. */
export const priceSchema = z
  .string()
  .regex(/^(0|[1-9]\d{0,11})(\.\d{1,6})?$/, 'A price is a decimal such as "0.0125" (at most 6 decimals)');

/** ISO 4217 alphabetic code. */
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'A currency is three capital letters (ISO 4217)');

/** A card takes effect at 00:00 UTC of this date. */
export const effectiveFromSchema = isoDateInRange('Effective date');

export const addressClassSchema = oneOf('Address class', ['internet', 'datacenter']);

/**
 * The two fixed classes, and optionally a price per metered address class
 * (metered port ACLs, keyed by the class's name: `networkOutGiB.storage`). A
 * class the card does not price is not charged: its lines are listed with
 * rate 0 and amount 0 (rate.ts). Names are checked against the defined
 * classes when a card is added (ChargebackService.addRateCard).
 */
const perAddressClassSchema = z
  .object({ internet: priceSchema, datacenter: priceSchema })
  .catchall(priceSchema)
  .superRefine((prices, ctx) => {
    for (const name of Object.keys(prices)) {
      if (name !== 'internet' && name !== 'datacenter' && !/^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not an address class name` });
      }
    }
  });

export const ratePricesSchema = z.object({
  vcpuHour: priceSchema,
  /** Per GiB of average memory per hour. */
  memoryGiBHour: priceSchema,
  /** Per GiB allocated per month; a month is 730 hours. */
  diskGiBMonth: priceSchema,
  networkOutGiB: perAddressClassSchema,
  networkInGiB: perAddressClassSchema,
  /** Per GiB of replica storage per month (730 hours). */
  replicaStorageGiBMonth: priceSchema,
});

export const rateCardSchema = z.object({
  currency: currencySchema,
  effectiveFrom: effectiveFromSchema,
  prices: ratePricesSchema,
});

/**
 * A provider's cards: one currency, distinct effective dates. Order in the
 * input does not matter; `cardsInEffect` sorts.
 */
export const rateCardsSchema = z
  .array(rateCardSchema)
  .min(1)
  .superRefine((cards, ctx) => {
    const dates = new Set<string>();
    for (const [index, card] of cards.entries()) {
      if (dates.has(card.effectiveFrom)) {
        ctx.addIssue({ code: 'custom', path: [index, 'effectiveFrom'], message: 'Two cards take effect the same day' });
      }
      dates.add(card.effectiveFrom);
      if (card.currency !== cards[0]?.currency) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'currency'],
          message: 'All cards of a provider use one currency',
        });
      }
    }
  });

export type RateCardInput = z.input<typeof rateCardSchema>;
