import { expect, test } from '@playwright/test';
import { apiAs, expectNoText, signIn } from '../fixtures/session';

test('a Blue Corp user sees their tenant and nothing of Yellow Corp', async ({ page }) => {
  await signIn(page, 'bob@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await expect(page.getByText('Blue Corp').first()).toBeVisible();
  await expectNoText(page, /yellow/i);

  // The admin console is not theirs: sent back to the portal.
  await page.goto('/admin/hosts');
  await expect(page).toHaveURL(/\/portal/);
  await expectNoText(page, /yellow/i);
});

test('the API refuses provider procedures to a tenant user', async () => {
  const bob = await apiAs('bob@blue.example');
  expect(await bob.call('tenants.list', 'query')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  expect(await bob.call('hosts.list', 'query', {})).toMatchObject({ ok: false, code: 'FORBIDDEN' });
});

test('a Blue Corp admin sees only Blue Corp people', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await expect(page.getByText('bob@blue.example')).toBeVisible();
  await expectNoText(page, /yellow/i);
});
