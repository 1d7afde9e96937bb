import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

const today = () => new Date().toISOString().slice(0, 10);
test('finance sees the rate cards and a tenant’s bill, and can download it as CSV', async ({ page }) => {
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/chargeback');
  await expect(page.getByRole('heading', { level: 1, name: 'Chargeback' })).toBeVisible();
  await expect(page.getByText('Rate cards').first()).toBeVisible();
  await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Blue Corp' });
  await expect(page.getByRole('link', { name: /Download CSV/i })).toBeVisible();
  const href = new URL(
    (await page.getByRole('link', { name: /Download CSV/i }).getAttribute('href')) ?? '',
    'http://localhost',
  );
  // Today only (the demo's card has priced every hour since last month).
  const from = `${today()}T00:00:00Z`;
  const to = new Date(Date.parse(from) + 86_400_000).toISOString().replace('.000', '');
  href.searchParams.set('from', from);
  href.searchParams.set('to', to);
  const response = await page.request.get(`${href.pathname}${href.search}`);
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain('tenant,period_from,period_to');
});

test('a tenant admin sees its own bill', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/bill');
  await expect(page.getByRole('heading', { level: 1, name: 'Bill' })).toBeVisible();
  await expect(page.locator('body')).not.toContainText(/yellow/i);
});
