import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPdf } from '../pdf/read-pdf.testing';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { TEST_PRICES as prices } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Issue 9, class 9: tenants named in any script are accepted with a slug that
// works in a download's file name, and their bills print the name itself.

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
const period = { from: '2026-11-02T00:00:00Z', to: '2026-11-03T00:00:00Z' };

interface Tenant {
  id: string;
  name: string;
  slug: string;
}

/**
 * Each name, and how it reads back out of the PDF: left to right across the
 * page, so the two words of an Arabic name come rightmost first.
 */
const NAMES: Array<{ script: string; name: string; printed: string; slug: RegExp }> = [
  { script: 'Japanese', name: '株式会社東京', printed: '株式会社東京', slug: /^[a-z2-7]{8}$/ },
  { script: 'Cyrillic', name: 'Газпром нефть', printed: 'Газпром нефть', slug: /^gazprom-neft-[a-z2-7]{8}$/ },
  {
    script: 'Greek',
    name: 'Αθηναϊκή Ζυθοποιία',
    printed: 'Αθηναϊκή Ζυθοποιία',
    slug: /^athinaiki-zythopoiia-[a-z2-7]{8}$/,
  },
  { script: 'Arabic', name: 'شركة النور', printed: 'النور شركة', slug: /^[a-z2-7]{8}$/ },
  {
    script: 'Latin and Japanese',
    name: 'Société Générale 株式会社',
    printed: 'Société Générale 株式会社',
    slug: /^societe-generale-[a-z2-7]{8}$/,
  },
];
const tenants = new Map<string, Tenant>();

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  // Tenants and the card exist from before the billed day.
  offsetMs = Date.UTC(2026, 10, 1) - Date.now();
  await c.finance.mutate('chargeback.addRateCard', { currency: 'USD', effectiveFrom: '2026-11-01', prices });
  for (const { name } of NAMES) tenants.set(name, await c.admin.mutate<Tenant>('tenants.create', { name }));
  offsetMs = Date.UTC(2026, 10, 4) - Date.now();
});
afterAll(() => api?.close());

function download(client: ApiClient, file: string, params: Record<string, string>) {
  const query = new URLSearchParams({ ...period, ...params });
  return fetch(`${api.url}/api/exports/${file}?${query}`, { headers: client.cookie ? { cookie: client.cookie } : {} });
}

describe('a tenant named in another script', () => {
  it.each(NAMES)('$script: is created with a slug a file name can carry, and listed', async ({ name, slug }) => {
    const tenant = tenants.get(name);
    expect(tenant).toMatchObject({ name });
    expect(tenant?.slug).toMatch(slug);
    const listed = await c.admin.query<Tenant[]>('tenants.list');
    expect(listed.filter((t) => t.name === name)).toEqual([expect.objectContaining({ slug: tenant?.slug })]);
  });

  it('the same name in another case or punctuation is a duplicate; another name in the script is not', async () => {
    expect(await c.admin.call('tenants.create', 'mutation', { name: 'ГАЗПРОМ-НЕФТЬ' })).toMatchObject({
      ok: false,
      status: 409,
      code: 'CONFLICT',
    });
    const other = await c.admin.mutate<Tenant>('tenants.create', { name: '株式会社大阪' });
    expect(other.slug).not.toBe(tenants.get('株式会社東京')?.slug);
  });

  it.each(NAMES)('$script: its bill downloads as CSV and PDF, the name printed as itself', async (row) => {
    const tenant = tenants.get(row.name);
    const csv = await download(c.finance, 'bill.csv', { tenantId: tenant?.id ?? '' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="bill-${tenant?.slug}-2026-11-02-2026-11-03.csv"`,
    );
    expect((await csv.text()).split('\r\n')[1]?.startsWith(`${row.name},`)).toBe(true);

    const pdf = await download(c.finance, 'bill.pdf', { tenantId: tenant?.id ?? '' });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-disposition')).toBe(
      `attachment; filename="bill-${tenant?.slug}-2026-11-02-2026-11-03.pdf"`,
    );
    const text = await readPdf(new Uint8Array(await pdf.arrayBuffer()));
    expect(text.texts).toContain(row.printed);
    expect(text.texts.join('\n')).not.toContain('?');
  });

  it('the all-tenants PDF prints every one of the names', async () => {
    const response = await download(c.finance, 'bill.pdf', { all: '1' });
    expect(response.status).toBe(200);
    const text = await readPdf(new Uint8Array(await response.arrayBuffer()));
    for (const { printed } of NAMES) expect(text.texts).toContain(printed);
  });
});
