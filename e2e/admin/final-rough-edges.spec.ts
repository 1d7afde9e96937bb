import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

// Rough edges a new user met after issue 9 (final walk-through): each is
// what the page now says instead of an error screen, a silent cut or a
// misleading empty state.

test.beforeEach(async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin/);
});

test('a malformed id in a detail URL is the not-found page, not "Invalid UUID" and Retry', async ({ page }) => {
  for (const path of ['/admin/vms/not-a-uuid', '/admin/hosts/123', '/admin/tenants/%27%3B--']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await expect(page.locator('body')).not.toContainText(/Invalid UUID/i);
  }
});

test('an audit page past the last says so and leads back to the first', async ({ page }) => {
  await page.goto('/admin/audit?page=99999');
  await expect(page.getByText('There is no page 99,999')).toBeVisible();
  await expect(page.locator('body')).not.toContainText('No events recorded yet');
  await page.getByRole('button', { name: 'Go to the first page' }).click();
  await expect(page.getByRole('table', { name: 'Audit events' })).toBeVisible();
});

test('search boxes stop at the API’s limits (a longer search was an error screen)', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/admin/hosts');
  const hosts = page.getByLabel('Search hosts');
  await hosts.fill('h'.repeat(500));
  await expect(hosts).toHaveValue('h'.repeat(100));
  // The search ran (after its pause) and the list answered, not an error screen ("must be at most 100").
  await page.waitForTimeout(1_500);
  await expect(page.locator('main')).not.toContainText(/Could not load|must be at most/);
  await page.goto('/admin/audit');
  await expect(page.getByLabel('Search audit log')).toHaveAttribute('maxlength', '100');
});

test('an all-tenant bill export over 400 days says why instead of downloading an error as bill.json', async ({
  page,
}) => {
  await page.goto('/admin/chargeback');
  await page.getByRole('radio', { name: 'Custom (UTC)' }).first().click();
  await page.getByLabel('From (UTC)').first().fill('2025-01-01');
  await page.getByLabel('To, inclusive (UTC)').first().fill('2026-06-30');
  await expect(page.getByText(/A bill covers at most 400 days; this period has 546/).first()).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download all tenants as JSON' })).toHaveAttribute(
    'aria-disabled',
    'true',
  );
  await page.screenshot({ path: 'test-results/final-bill-export-400-days.png' });
});
