import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A new user's first run: `npm start` seeds a billing history (a card from
// last month, VMs that ran since), so finance can close last month at once
// and tenants see usage and bills.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const now = new Date();
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api, { billingHistory: true });
});
afterAll(() => api?.close());

describe('the demo’s billing history', () => {
  it('last month is ready to close, and closing it bills both tenants’ VMs exactly', async () => {
    const periods = await c.finance.query<{ month: string; closable: boolean }[]>('chargeback.periods');
    expect(periods.find((p) => p.month === lastMonth)).toMatchObject({ closable: true });
    await c.finance.mutate('chargeback.closePeriod', { month: lastMonth });
    const invoices = await c.finance.query<{ tenantName: string; total: string; lineCount: number }[]>(
      'chargeback.invoices',
      { month: lastMonth },
    );
    expect(invoices.map((i) => i.tenantName).sort()).toEqual(['Blue Corp', 'Yellow Corp']);
    for (const invoice of invoices) {
      expect(Number(invoice.total)).toBeGreaterThan(10);
      expect(invoice.lineCount).toBeGreaterThan(5);
    }
  });

  it('a tenant admin sees its own VMs in this month’s bill so far, none of the other tenant’s', async () => {
    const from = `${now.toISOString().slice(0, 7)}-01T00:00:00Z`;
    const to = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000).toISOString().replace('.000', '');
    if (from === to) return; // the first hour of a month has no finished hour yet
    const bill = await c.blueAdmin.query<{ lines: { vmName: string }[] }>('chargeback.bill', { period: { from, to } });
    const names = new Set(bill.lines.map((l) => l.vmName));
    expect([...names].sort()).toEqual(['sql-01', 'web-01', 'web-02']);
  });

  it('seeding again changes nothing', async () => {
    const { seedDemo } = await import('../../../../prisma/seed');
    expect(await seedDemo(api.services)).toBe(false);
  });
});
