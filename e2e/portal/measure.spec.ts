import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

// Totals for the period (metering.measure): a tenant admin sees its VMs'
// totals and the per-VM table, from the demo's billing history (Blue Corp's
// web-01, web-02 and sql-01 ran all month), and nothing of Yellow; finance
// measures a resource pool (a cluster).

test('a tenant admin sees its totals for the month and its VMs, heaviest CPU first', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/usage');
  await page.getByRole('radio', { name: 'This month' }).click();

  const totals = page.getByTestId('measure-totals');
  await expect(totals.getByRole('heading', { name: 'Totals for the period' })).toBeVisible();
  await expect(totals.getByTestId('measure-coverage')).toContainText(/\d+ VMs metered for/);
  const perVm = totals.getByRole('table', { name: 'Usage per VM, heaviest CPU first' });
  // sql-01 (8 vCPUs at half load) uses the most CPU; the web servers follow.
  await expect(perVm.getByRole('row').nth(1)).toContainText('sql-01');
  for (const name of ['web-01', 'web-02']) await expect(perVm.getByRole('cell', { name, exact: true })).toBeVisible();
  await expect(totals.getByText('Average CPU')).toBeVisible();
  await expect(totals.getByText(/GHz|MHz/).first()).toBeVisible();
  // Yellow's app-01 and batch VMs are not Blue's.
  await expect(totals).not.toContainText('app-01');
  await expect(page.locator('body')).not.toContainText(/yellow/i);
});

test('finance measures a resource pool (a cluster) and a tenant', async ({ page }) => {
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin/);
  await page.goto('/admin/usage');
  await page.getByRole('radio', { name: 'Resource pool' }).click();
  const totals = page.getByTestId('measure-totals');
  await expect(totals.getByText('Choose what to measure')).toBeVisible();
  await expect(page.getByText('A resource pool is a cluster')).toBeVisible();
  await page.getByLabel('Resource pool').selectOption({ label: 'Production' });
  await expect(totals).toContainText('resource pool = cluster');
  // Either the pool's VMs or an explicit empty state, never a spinner forever or an error.
  await expect(
    totals.getByRole('table', { name: /Usage per VM/ }).or(totals.getByText('No usage in this period')),
  ).toBeVisible();

  await page.getByRole('radio', { name: 'Tenant' }).click();
  await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Yellow Corp' });
  await page.getByRole('radio', { name: 'This month' }).click();
  await expect(totals.getByRole('table', { name: /Usage per VM/ })).toContainText('app-01');
  await expect(totals).not.toContainText('sql-01');
});
