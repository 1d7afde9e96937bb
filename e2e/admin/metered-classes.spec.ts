import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

// Metered address classes (metered port ACLs) in the console: a provider admin
// defines one (a bad block is refused with the reason), the rate card dialog
// then offers prices for it, finance sees it read-only, and it is removed.
test('a provider admin defines a metered address class, prices it in a rate card, and removes it', async ({
  page,
  browser,
}) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/chargeback');
  await expect(page.getByRole('heading', { name: 'Metered address classes' })).toBeVisible();

  await page.getByRole('button', { name: 'Define class' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Define a metered address class' });
  await dialog.getByLabel('Name').fill('e2e-backup');
  await dialog.getByLabel('Remote addresses').fill('198.51.100.7/24');
  await dialog.getByRole('button', { name: 'Define class' }).click();
  await expect(dialog.getByText('has host bits set; the block is 198.51.100.0/24')).toBeVisible();
  await dialog.getByLabel('Remote addresses').fill('198.51.100.0/24\n2001:db8:e2e::/48');
  await dialog.getByRole('button', { name: 'Define class' }).click();
  await expect(dialog).toBeHidden();
  const table = page.getByRole('table', { name: 'Metered address classes' });
  await expect(table.getByRole('row', { name: /e2e-backup/ })).toContainText('198.51.100.0/24, 2001:db8:e2e::/48');

  // The rate card dialog offers prices for it (empty: listed on bills, not charged).
  await page.getByRole('button', { name: 'New rate card' }).first().click();
  const cardDialog = page.getByRole('dialog', { name: 'New rate card' });
  await expect(cardDialog.getByLabel('Network out · e2e-backup (per GiB)')).toHaveValue('');
  await expect(cardDialog.getByLabel('Network in · e2e-backup (per GiB)')).toBeVisible();
  await cardDialog.getByLabel('Network out · e2e-backup (per GiB)').fill('0.0000001');
  await cardDialog.getByRole('button', { name: 'Add rate card' }).click();
  await expect(cardDialog.getByText('at most 6 decimals')).toBeVisible();
  await cardDialog.getByRole('button', { name: 'Cancel' }).click();

  // Finance reads the classes but cannot change them.
  const financeContext = await browser.newContext();
  const finance = await financeContext.newPage();
  await signIn(finance, 'finance@fabric.local');
  await expect(finance).toHaveURL(/\/admin$/);
  await finance.goto('/admin/chargeback');
  await expect(finance.getByRole('table', { name: 'Metered address classes' })).toContainText('e2e-backup');
  await expect(finance.getByRole('button', { name: /Remove class/ })).toHaveCount(0);
  await financeContext.close();

  // Removed (agents learn it within a heartbeat, so it may already have usage: then it is kept, saying why).
  await table.getByRole('button', { name: 'Remove class e2e-backup' }).click();
  const confirm = page.getByRole('dialog', { name: /Remove class e2e-backup/ });
  await confirm.getByRole('button', { name: 'Remove class' }).click();
  const outcome = async () => {
    if (await confirm.getByText('has metered usage').isVisible()) return 'kept, saying why';
    const listed = await table.getByRole('row', { name: /e2e-backup/ }).count();
    return listed === 0 && (await confirm.isHidden()) ? 'removed' : 'pending';
  };
  await expect.poll(outcome).not.toBe('pending');
});
