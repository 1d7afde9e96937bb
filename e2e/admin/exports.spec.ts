import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { readPdf } from '../../apps/api/src/pdf/read-pdf.testing';
import { signIn } from '../fixtures/session';

/** Clicks a download link as a person would and returns the saved file's bytes. */
async function download(page: Page, name: RegExp): Promise<{ bytes: Buffer; filename: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
  const path = await file.path();
  return { bytes: readFileSync(path), filename: file.suggestedFilename() };
}

/** The CSV's total rows as [tenant, amount]. */
function csvTotals(csv: string): string[][] {
  return csv
    .trim()
    .split('\r\n')
    .map((row) => row.split(','))
    .filter((cells) => cells[5] === 'total')
    .map((cells) => [cells[0] ?? '', cells[9] ?? '']);
}

/** "12.34 USD" under "Total" in the bill card. */
async function pageTotal(page: Page): Promise<string> {
  const text = await page
    .locator('dt', { hasText: /^Total$/ })
    .locator('xpath=following-sibling::dd[1]')
    .textContent();
  return (text ?? '').trim().split(/\s+/)[0] ?? '';
}

/** The chargeback page with a tenant's bill for this month so far. */
async function openBill(page: Page, tenant: string) {
  await page.goto('/admin/chargeback');
  await page.getByLabel('Tenant', { exact: true }).selectOption({ label: tenant });
  await expect(page.getByRole('link', { name: 'Download CSV of this bill' })).toBeVisible();
}

// The demo's billing history: Yellow Corp's app-01 and batch-01 ran this month,
// so Yellow has a bill and Blue Corp's files have another tenant's VMs to leave out.
const METERED_VM = 'app-01';

test('finance downloads a tenant’s bill as CSV and PDF; the CSV totals to the page', async ({ page }) => {
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await openBill(page, 'Yellow Corp');
  await expect(page.getByText(METERED_VM)).toBeVisible();

  // VMs that other tests run keep being metered, so a bill can move between the
  // page's read and the download: compare again on a fresh page until both
  // come from the same rollups. A real difference never settles.
  await expect
    .poll(
      async () => {
        await openBill(page, 'Yellow Corp');
        await expect(page.locator('dt', { hasText: /^Total$/ })).toBeVisible();
        const shown = await pageTotal(page);
        const { bytes, filename } = await download(page, /^Download CSV of this bill$/);
        expect(filename).toMatch(/^bill-yellow[^.]*\.csv$/);
        const csv = bytes.toString('utf8');
        expect(csv).toContain(METERED_VM);
        const totals = csvTotals(csv);
        expect(totals.map(([tenant]) => tenant)).toEqual(['Yellow Corp']);
        return totals[0]?.[1] === shown ? `equal ${shown}` : `page ${shown}, CSV ${totals[0]?.[1]}`;
      },
      { timeout: 45_000, intervals: [1_000, 2_000, 4_000] },
    )
    .toMatch(/^equal \d+\.\d{2}$/);

  const pdf = await download(page, /^Download PDF of this bill$/);
  expect(pdf.filename).toMatch(/^bill-yellow[^.]*\.pdf$/);
  expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(pdf.bytes.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
  const pdfText = await readPdf(pdf.bytes);
  expect(pdfText.texts).toContain('Yellow Corp');
  expect(pdfText.texts).toContain(METERED_VM);
  expect(pdfText.texts.join('\n')).not.toContain('Blue Corp');
});

test('finance downloads every tenant’s bill in one file', async ({ page }) => {
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/chargeback');
  const { bytes, filename } = await download(page, /^Download all tenants as CSV$/);
  expect(filename).toMatch(/^bills-all-tenants-.*\.csv$/);
  const tenants = csvTotals(bytes.toString('utf8')).map(([tenant]) => tenant);
  expect(tenants).toEqual(expect.arrayContaining(['Blue Corp', 'Yellow Corp']));
});

test('a tenant admin’s download from the portal holds its own tenant only', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/bill');
  await expect(page.getByRole('heading', { level: 1, name: 'Bill' })).toBeVisible();
  await expect(page.getByRole('link', { name: /^Download all tenants/ })).toHaveCount(0);

  const csv = (await download(page, /^Download CSV of this bill$/)).bytes.toString('utf8');
  const rows = csv.trim().split('\r\n').slice(1);
  expect(rows.length).toBeGreaterThanOrEqual(3);
  expect(rows.every((row) => row.startsWith('Blue Corp,'))).toBe(true);
  expect(csv).not.toMatch(/yellow/i);
  expect(csv).not.toContain(METERED_VM);

  const json = JSON.parse((await download(page, /^Download JSON of this bill$/)).bytes.toString('utf8'));
  expect(json.bills.map((b: { tenant: { name: string } }) => b.tenant.name)).toEqual(['Blue Corp']);
  expect(JSON.stringify(json)).not.toMatch(/yellow/i);
});
