import { describe, expect, it } from 'vitest';
import { ChargebackError } from './chargeback.errors';
import { cardsInEffect, pricedPeriod, type RateCard } from './rate-card';
import { priceSchema, rateCardSchema, rateCardsSchema } from './rate-card.schema';
import { tenantPlanSchema } from './tenant-plan.schema';

const prices = {
  vcpuHour: '0.01',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.1',
  networkOutGiB: { internet: '0.09', datacenter: '0' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.05',
};
const card = (effectiveFrom: string, currency = 'EUR'): RateCard => ({ currency, effectiveFrom, prices });
const ms = (iso: string) => Date.parse(iso);

describe('cardsInEffect', () => {
  it('splits a period at each effective date inside it, whatever the input order', () => {
    const cards = [card('2026-12-15'), card('2026-11-01'), card('2026-12-01'), card('2027-02-01')];
    const segments = cardsInEffect(cards, ms('2026-11-20T00:00:00Z'), ms('2027-01-01T00:00:00Z'));
    expect(
      segments.map((s) => [s.card.effectiveFrom, new Date(s.fromMs).toISOString(), new Date(s.toMs).toISOString()]),
    ).toEqual([
      ['2026-11-01', '2026-11-20T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ['2026-12-01', '2026-12-01T00:00:00.000Z', '2026-12-15T00:00:00.000Z'],
      ['2026-12-15', '2026-12-15T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ]);
  });

  it('uses a card from the instant it takes effect (00:00 UTC)', () => {
    const segments = cardsInEffect(
      [card('2026-11-01'), card('2026-12-01')],
      ms('2026-12-01T00:00:00Z'),
      ms('2026-12-02T00:00:00Z'),
    );
    expect(segments.map((s) => s.card.effectiveFrom)).toEqual(['2026-12-01']);
  });

  it('leaves the hours before the first card out of every segment, and says from when the period is priced', () => {
    const period = pricedPeriod([card('2026-11-20')], ms('2026-11-01T00:00:00Z'), ms('2026-12-01T00:00:00Z'));
    expect(period.unpricedBefore).toBe('2026-11-20');
    expect(period.currency).toBe('EUR');
    expect(period.segments.map((s) => [new Date(s.fromMs).toISOString(), new Date(s.toMs).toISOString()])).toEqual([
      ['2026-11-20T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ]);
    const before = pricedPeriod([card('2027-01-01')], ms('2026-11-01T00:00:00Z'), ms('2026-12-01T00:00:00Z'));
    expect(before).toMatchObject({ segments: [], unpricedBefore: '2027-01-01' });
    expect(
      pricedPeriod([card('2026-11-01')], ms('2026-11-01T00:00:00Z'), ms('2026-12-01T00:00:00Z')).unpricedBefore,
    ).toBeNull();
  });

  it.each([
    ['no card at all', [], 'NO_RATE_CARD'],
    ['two cards on one day', [card('2026-10-01'), card('2026-10-01')], 'DUPLICATE_EFFECTIVE_DATE'],
    ['two currencies', [card('2026-10-01'), card('2026-10-15', 'USD')], 'CURRENCY_MISMATCH'],
  ])('rejects %s', (_name, cards, code) => {
    const attempt = () => cardsInEffect(cards, ms('2026-11-01T00:00:00Z'), ms('2026-12-01T00:00:00Z'));
    expect(attempt).toThrow(ChargebackError);
    expect(attempt).toThrow(expect.objectContaining({ code }));
  });

  it('rejects an empty period', () => {
    expect(() => cardsInEffect([card('2026-10-01')], ms('2026-11-01T00:00:00Z'), ms('2026-11-01T00:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'INVALID_PERIOD' }),
    );
  });
});

describe('rate card schemas', () => {
  it.each([
    ['0', true],
    ['0.000001', true],
    ['12.5', true],
    ['0.0000001', false],
    ['1e-3', false],
    ['-1', false],
    ['01', false],
    ['1.', false],
    ['', false],
  ])('price %j valid: %s', (value, valid) => {
    expect(priceSchema.safeParse(value).success).toBe(valid);
  });

  it('rejects a lower-case currency and a non-date effective date', () => {
    expect(rateCardSchema.safeParse(card('2026-11-01', 'eur')).success).toBe(false);
    expect(rateCardSchema.safeParse(card('2026-11-31')).success).toBe(false);
    expect(rateCardSchema.safeParse(card('2026-11-30')).success).toBe(true);
  });

  it('a provider uses one currency and one card per day', () => {
    expect(rateCardsSchema.safeParse([card('2026-11-01'), card('2026-11-01')]).success).toBe(false);
    expect(rateCardsSchema.safeParse([card('2026-11-01'), card('2026-12-01', 'USD')]).success).toBe(false);
    expect(rateCardsSchema.safeParse([card('2026-11-01'), card('2026-12-01')]).success).toBe(true);
  });

  it.each([
    [{ kind: 'discount', percent: '0' }, true],
    [{ kind: 'discount', percent: '100' }, true],
    [{ kind: 'discount', percent: '12.5' }, true],
    [{ kind: 'discount', percent: '100.01' }, false],
    [{ kind: 'discount', percent: '-5' }, false],
    [{ kind: 'override', prices: { vcpu: '0.02' } }, true],
    [{ kind: 'override', prices: { gpu: '0.02' } }, false],
    [{ kind: 'list' }, true],
  ])('plan %j valid: %s', (plan, valid) => {
    expect(tenantPlanSchema.safeParse(plan).success).toBe(valid);
  });
});
