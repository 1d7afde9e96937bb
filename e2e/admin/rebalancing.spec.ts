import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

test('the admin sets a cluster to recommend, is told what a bad value breaks, and plans a round', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/clusters');
  await page.getByRole('link', { name: /^Production: rebalancing/ }).click();
  await expect(page).toHaveURL(/\/admin\/clusters\/[0-9a-f-]+\/rebalancing/);
  await expect(page.getByRole('heading', { name: 'Rebalancing', level: 1 })).toBeVisible();

  // Defaults: off, every 10 minutes.
  await expect(page.getByLabel('Mode')).toHaveValue('off');
  await expect(page.getByLabel('Interval (minutes)')).toHaveValue('10');

  // A bad value is refused beside its field, with the rule.
  await page.getByLabel('Interval (minutes)').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('the interval must be at least 1 minute')).toBeVisible();

  await page.getByLabel('Interval (minutes)').fill('5');
  await page.getByLabel('Mode').selectOption('recommend');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Mode')).toHaveValue('recommend');
  await expect(page.getByLabel('Interval (minutes)')).toHaveValue('5');

  // Plan now: the round's summary, each host's measured load, and recommendations or why there are none.
  await page.getByRole('button', { name: 'Plan now' }).click();
  await expect(page.getByTestId('rebalance-summary')).toBeVisible();
  await expect(page.getByRole('columnheader', { name: 'Load after the moves' })).toBeVisible();
  await expect(
    page.getByTestId('rebalance-recommendation').first().or(page.getByText('Nothing to move')),
  ).toBeVisible();
  // Each host's state beside it (only connected hosts are targets).
  await expect(page.getByRole('columnheader', { name: 'State' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'connected' }).first()).toBeVisible();
  await page.screenshot({ path: 'test-results/rebalancing.png', fullPage: true });

  // Consolidation reads in hosts in use, not an imbalance its rows contradicted.
  await page.getByLabel('Goal').selectOption('consolidate');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.getByRole('button', { name: 'Plan now' }).click();
  await expect(page.getByText(/· consolidate · hosts in use \d+ → \d+/)).toBeVisible();
  await expect(page.getByText(/· consolidate · imbalance/)).toHaveCount(0);
  // Back to balance for the tests after this one (the "Saved." above is still shown: read the setting back).
  await page.getByLabel('Goal').selectOption('balance');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('button', { name: 'Save' })).toBeEnabled();
  await expect(async () => {
    await page.reload();
    await expect(page.getByLabel('Goal')).toHaveValue('balance', { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
});
