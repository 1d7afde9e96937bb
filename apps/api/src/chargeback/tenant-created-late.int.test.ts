import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { addCardFrom, demoTenantIds, movableClock } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A tenant created in December has no November: closing November invoices
// the tenants that existed then, and no bill, report row or export of a period
// that ended before a tenant was created names it (issue 9, class 10).

const time = movableClock();
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let blueId: string;
let lateId: string;
const NOVEMBER = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
const DECEMBER = { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock: time.clock });
  c = await seedAndSignIn(api);
  ({ blueId } = await demoTenantIds(c));
  await addCardFrom(c.finance, time, '2026-11-01');
  time.set('2026-12-02T09:00:00Z');
  lateId = (await c.admin.mutate<{ id: string }>('tenants.create', { name: 'December Corp' })).id;
});
afterAll(async () => {
  time.reset();
  await api?.close();
});

describe('a tenant created after a period ended', () => {
  it('gets no invoice when that month is closed; the tenants that existed do', async () => {
    const period = await c.finance.mutate<{ status: string; invoiceCount: number }>('chargeback.closePeriod', {
      month: '2026-11',
    });
    const invoices = await c.finance.query<{ tenantId: string }[]>('chargeback.invoices', { month: '2026-11' });
    const invoiced = invoices.map((i) => i.tenantId);
    expect(invoiced).toContain(blueId);
    expect(invoiced).not.toContain(lateId);
    expect(period).toMatchObject({ status: 'closed', invoiceCount: invoices.length });
  });

  it('has no bill for it, and is told why (its creation day), whoever asks', async () => {
    const asFinance = await c.finance.call('chargeback.bill', 'query', { tenantId: lateId, period: NOVEMBER });
    expect(asFinance).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    if (!asFinance.ok) expect(asFinance.message).toContain('created on 2026-12-02');
    // Its own month is billed as usual.
    const december = await c.finance.query<{ total: string }>('chargeback.bill', {
      tenantId: lateId,
      period: DECEMBER,
    });
    expect(december.total).toBe('0.00');
  });

  it('is left out of the report and of the all-tenant bills file for that period', async () => {
    const rows = await c.finance.query<{ tenantId: string }[]>('chargeback.report', { period: NOVEMBER });
    expect(rows.map((r) => r.tenantId)).toContain(blueId);
    expect(rows.map((r) => r.tenantId)).not.toContain(lateId);
    const all = await fetch(`${api.url}/api/exports/bill.json?all=1&from=${NOVEMBER.from}&to=${NOVEMBER.to}`, {
      headers: { cookie: c.finance.cookie ?? '' },
    });
    expect(all.status).toBe(200);
    const text = await all.text();
    expect(text).toContain('Blue Corp');
    expect(text).not.toContain('December Corp');
    const one = await fetch(
      `${api.url}/api/exports/bill.csv?tenantId=${lateId}&from=${NOVEMBER.from}&to=${NOVEMBER.to}`,
      {
        headers: { cookie: c.finance.cookie ?? '' },
      },
    );
    expect(one.status).toBe(400);
  });
});

// Upgrade path (final probe): databases from before creation dates were kept
// hold November invoices of tenants "created" in December. Such an invoice
// exists, so it is reviewed, re-rated, reported and exported like any other.
describe('an invoice that exists for a period before its tenant was created', () => {
  interface Review {
    changed: { tenantId: string }[];
    unchanged: number;
  }
  const reviewed = (review: Review) => review.changed.length + review.unchanged;

  it('is followed: the period review counts it, the report and the bills show it', async () => {
    const before = await c.finance.query<Review>('chargeback.reviewPeriod', { month: '2026-11' });
    // As an older Fabric wrote it: a copy of Blue's November invoice, issued to the late tenant.
    await withSql(api.databaseUrl, (sql) =>
      sql.query(
        `INSERT INTO invoices (id, number, tenant_id, tenant_name, month, version, currency, subtotal, discount, total,
                               adjustment, line_count, document, reason, created_by, created_at)
         SELECT gen_random_uuid(), 'INV-2026-11-OLD', $1, 'December Corp', month, 1, currency, subtotal, discount, total,
                adjustment, line_count, document, reason, created_by, created_at
         FROM invoices WHERE tenant_id = $2 AND month = '2026-11-01' AND version = 1`,
        [lateId, blueId],
      ),
    );
    const after = await c.finance.query<Review>('chargeback.reviewPeriod', { month: '2026-11' });
    expect(reviewed(after)).toBe(reviewed(before) + 1);

    const rows = await c.finance.query<{ tenantId: string }[]>('chargeback.report', { period: NOVEMBER });
    expect(rows.map((r) => r.tenantId)).toContain(lateId);
    const bill = await c.finance.call('chargeback.bill', 'query', { tenantId: lateId, period: NOVEMBER });
    expect(bill.ok).toBe(true);
    const invoices = await c.finance.query<{ tenantId: string }[]>('chargeback.invoices', { month: '2026-11' });
    expect(invoices.map((i) => i.tenantId)).toContain(lateId);
    const all = await fetch(`${api.url}/api/exports/bill.json?all=1&from=${NOVEMBER.from}&to=${NOVEMBER.to}`, {
      headers: { cookie: c.finance.cookie ?? '' },
    });
    expect(await all.text()).toContain('December Corp');
  });

  it('a tenant with neither existence nor an invoice in the period is still left out (the control)', async () => {
    const october = { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' };
    const rows = await c.finance.query<{ tenantId: string }[]>('chargeback.report', { period: october });
    expect(rows.map((r) => r.tenantId)).not.toContain(lateId);
  });
});
