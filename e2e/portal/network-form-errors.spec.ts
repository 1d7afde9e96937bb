import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

// A new user pasted a 300-character name into "VM network name": the input cut
// it to 64 characters without a word and the network was created; an empty
// name greyed the button out with no hint why; an error stayed as a banner
// under the row after the name was fixed.

test('the VM network form refuses a too-long name beside the field, creates nothing, and the error goes once fixed', async ({
  page,
}) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/networks');
  const name = page.getByLabel('VM network name');
  const create = page.getByRole('button', { name: 'Create VM network' });
  const long = `e2e-long-${'x'.repeat(291)}`;

  // Nothing typed: the button says why instead of sitting greyed out.
  await expect(create).toBeEnabled();
  await create.click();
  await expect(page.locator('#net-name-error')).toHaveText('VM network name is required');

  await name.fill(long);
  await expect(name).toHaveValue(long); // not silently cut to 64
  await expect(page.locator('#net-name-error')).toHaveCount(0); // editing took the old error away
  await create.click();
  await expect(page.locator('#net-name-error')).toHaveText('VM network name must be at most 64 characters');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await page.reload();
  await expect(page.getByRole('heading', { name: long.slice(0, 64) })).toHaveCount(0);

  // Fixed: the error goes with the edit.
  await page.getByLabel('VM network name').fill(long);
  await page.getByRole('button', { name: 'Create VM network' }).click();
  await expect(page.locator('#net-name-error')).toBeVisible();
  await page.getByLabel('VM network name').fill('e2e-short');
  await expect(page.locator('#net-name-error')).toHaveCount(0);
  await expect(page.getByText('At most 64 characters: letters, digits')).toBeVisible();
});
