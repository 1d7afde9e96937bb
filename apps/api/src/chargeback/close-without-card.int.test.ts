import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A provider that has not priced anything yet cannot close a month, and the
// refusal starts no job (nothing would block a close once a card exists).

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
});
afterAll(() => api?.close());

it('closing a month without any rate card is refused with the reason, and writes nothing', async () => {
  const now = new Date();
  const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const result = await c.finance.call('chargeback.closePeriod', 'mutation', { month: lastMonth });
  expect(result).toMatchObject({ ok: false, code: 'PRECONDITION_FAILED' });
  if (!result.ok) expect(result.message).toMatch(/Add a rate card/);
  expect(await countRows(api.databaseUrl, 'jobs')).toBe(0);
  expect(await countRows(api.databaseUrl, 'invoices')).toBe(0);
});
