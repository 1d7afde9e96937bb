import { describe, expect, it } from 'vitest';
import { rebalanceSettingsPatchSchema } from './rebalance-settings.schema';
import { parseRebalanceSettingsDraft, type RebalanceSettingsDraft } from './rebalance-settings-form.schema';

const draft: RebalanceSettingsDraft = {
  mode: 'recommend',
  goal: 'balance',
  intervalMinutes: '10',
  threshold: '0.3',
  holdRounds: '3',
  minImprovement: '5',
  maxMovesPerRound: '10',
  consolidationMaxLoadPercent: '80',
};

describe('rebalancing settings form: numbers are decimal text', () => {
  it('reads plain decimals (the improvement is a percentage in the form)', () => {
    const r = parseRebalanceSettingsDraft(draft);
    expect(r).toEqual({
      ok: true,
      patch: {
        mode: 'recommend',
        goal: 'balance',
        intervalMinutes: 10,
        threshold: 0.3,
        holdRounds: 3,
        minImprovement: 0.05,
        maxMovesPerRound: 10,
        consolidationMaxLoadPercent: 80,
      },
    });
  });

  // Number() reads every one of these as a number the user did not type.
  it.each([
    ['threshold', 'Infinity'],
    ['threshold', '0x0A'],
    ['minImprovement', '5%'],
  ] as const)('%s = %s is refused beside the field, naming the rule', (field, text) => {
    const r = parseRebalanceSettingsDraft({ ...draft, [field]: text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[field]).toMatch(/must be a decimal number \(digits, optionally a point\)/);
    expect(Object.keys(r.errors)).toEqual([field]);
  });

  // The whole-number fields say so: "abc" in "Moves per round" is not "a decimal number" problem.
  it.each([
    ['intervalMinutes', '0x0A'],
    ['holdRounds', '0b11'],
    ['maxMovesPerRound', '1e1'],
    ['maxMovesPerRound', 'abc'],
    ['consolidationMaxLoadPercent', '0o77'],
  ] as const)('whole-number field %s = %s is refused as "must be a whole number"', (field, text) => {
    const r = parseRebalanceSettingsDraft({ ...draft, [field]: text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[field]).toMatch(/must be a whole number \(digits only\)/);
    expect(r.errors[field]).not.toMatch(/decimal/);
    expect(Object.keys(r.errors)).toEqual([field]);
  });

  it('the minimum improvement, a percentage in the form, states its range in percent', () => {
    const high = parseRebalanceSettingsDraft({ ...draft, minImprovement: '500' });
    expect(high).toEqual({ ok: false, errors: { minImprovement: 'the minimum improvement must be at most 100 %' } });
    const low = parseRebalanceSettingsDraft({ ...draft, minImprovement: '-1' });
    expect(low).toEqual({ ok: false, errors: { minImprovement: 'the minimum improvement must be at least 0 %' } });
    expect(parseRebalanceSettingsDraft({ ...draft, minImprovement: '100' })).toMatchObject({
      ok: true,
      patch: { minImprovement: 1 },
    });
  });

  it('an empty field is required; ranges still come from the schema', () => {
    const r = parseRebalanceSettingsDraft({ ...draft, intervalMinutes: ' ', holdRounds: '2.5', threshold: '9' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual({
      intervalMinutes: 'the interval is required',
      holdRounds: 'hold rounds must be a whole number (digits only), not "2.5"',
      threshold: 'the threshold must be at most 2',
    });
  });

  it('the API schema refuses numbers sent as text ("0x0A" is not 10)', () => {
    expect(rebalanceSettingsPatchSchema.safeParse({ intervalMinutes: '0x0A' }).success).toBe(false);
    expect(rebalanceSettingsPatchSchema.safeParse({ intervalMinutes: '10' }).success).toBe(false);
  });
});
