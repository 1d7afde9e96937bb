import { describe, expect, it } from 'vitest';
import { billExportInput } from './bill-export.schema';
import { billInput, reportInput } from './chargeback.schema';

const DAY_MS = 86_400_000;
const from = Date.UTC(2025, 0, 1);
const period = (days: number) => ({
  from: new Date(from).toISOString(),
  to: new Date(from + days * DAY_MS).toISOString(),
});
const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((i) => i.message) ?? [];

describe('billing periods are bounded (issue 9, class 2)', () => {
  it.each([
    ['A bill', (days: number) => billInput.safeParse({ period: period(days) })],
    ['A report', (days: number) => reportInput.safeParse({ period: period(days) })],
    ['An export', (days: number) => billExportInput.safeParse({ format: 'csv', all: '1', period: period(days) })],
  ])('%s covers up to 400 days and says so past that', (what, parse) => {
    expect(parse(400).success).toBe(true);
    expect(messages(parse(3650))).toEqual([
      `${what} covers at most 400 days; this period has 3,650. Choose a shorter period.`,
    ]);
  });
});
