import { expect, test } from '@playwright/test';
import { apiAs, expectNoText, signIn } from '../fixtures/session';

// The demo's billing history makes last month ready to close on a fresh stack.
const now = new Date();
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
const month = lastMonth.toISOString().slice(0, 7);
const label = lastMonth.toLocaleDateString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });

interface Summary {
  id: string;
  tenantName: string;
  number: string;
  total: string;
}

test.describe.configure({ mode: 'serial' });

test('finance closes last month and opens a tenant’s frozen invoice', async ({ page }) => {
  const finance = await apiAs('finance@fabric.local');
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/invoices');
  await expect(page.getByRole('heading', { level: 1, name: 'Invoices' })).toBeVisible();
  const periods = page.getByRole('table', { name: 'Billing periods' });
  await expect(periods.getByRole('row', { name: new RegExp(label) })).toBeVisible();

  const already = (await finance.query<Summary[]>('chargeback.invoices', { month })).length > 0;
  if (!already) {
    await periods.getByRole('button', { name: `Close ${label}` }).click();
    const dialog = page.getByRole('dialog', { name: `Close ${label}?` });
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Close month' }).click();
    await expect(dialog).toBeHidden();
  }
  await expect(periods.getByRole('row', { name: new RegExp(label) })).toContainText('Closed');

  const invoices = page.getByRole('table', { name: `Invoices of ${label}` });
  await expect(invoices.getByRole('row')).toHaveCount(3); // header + Blue + Yellow
  const blue = (await finance.query<Summary[]>('chargeback.invoices', { month })).find(
    (i) => i.tenantName === 'Blue Corp',
  );
  expect(blue).toBeTruthy();
  await expect(invoices.getByRole('row', { name: /Blue Corp/ })).toContainText(`${blue?.total} USD`);

  await invoices.getByRole('link', { name: blue?.number ?? '' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Invoice ${blue?.number} · v1` })).toBeVisible();
  await expect(page.getByText('Closed · frozen')).toBeVisible();
  const lines = page.getByRole('table', { name: 'Invoice lines' });
  await expect(lines).toContainText('sql-01');
  await expect(lines).toContainText('web-01');
  await expect(page.getByText(`${blue?.total} USD`).first()).toBeVisible();

  // Nothing arrived late for a month of seeded history: the review says every invoice matches.
  await page.goto('/admin/invoices');
  await page.getByRole('button', { name: 'Check for late usage' }).click();
  await expect(page.getByText(/invoices match the usage recorded/)).toBeVisible();
});

test('a tenant admin sees its own invoices only', async ({ page }) => {
  const yara = await apiAs('yara@yellow.example');
  const yellow = (await yara.query<Summary[]>('chargeback.invoices', {}))[0];
  expect(yellow).toBeTruthy();

  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/invoices');
  const table = page.getByRole('table', { name: 'Invoices' });
  await expect(table.getByRole('row')).toHaveCount(2);
  await expectNoText(page, /yellow/i);
  await table.getByRole('link').first().click();
  await expect(page.getByRole('table', { name: 'Invoice lines' })).toContainText('web-02');
  await expectNoText(page, /batch-01|app-01/);

  // Yellow's invoice by its address: not found, exactly like a missing one.
  await page.goto(`/portal/invoices/${yellow?.id}`);
  await expect(page.getByText('Could not load the invoice')).toBeVisible();
  await expectNoText(page, /batch-01|Yellow/);
});
