import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Issue 9, class 11: rough edges a new user met in the portal.

const unique = () => `c11-${Date.now().toString(36)}`;

test('Enter in the name field creates nothing; the Create button does', async ({ page }) => {
  const name = unique();
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/vms/new');
  await page.locator('#vm-name').fill(name);
  await page.locator('#vm-name').press('Enter');
  // Give a submit the time it would take, then check nothing was created.
  await page.waitForTimeout(1_500);
  await expect(page).toHaveURL(/\/portal\/vms\/new$/);
  const alice = await apiAs('alice@blue.example');
  const found = await alice.query<{ total: number }>('vms.list', { search: name });
  expect(found.total).toBe(0);
});

test('a minimum above the maximum memory marks both fields, saying the rule', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/vms/new');
  await page.getByText('Dynamic Memory', { exact: true }).click();
  await page.getByLabel('Startup (GiB)').fill('4');
  await page.getByLabel('Maximum (GiB)').fill('8');
  await page.getByLabel('Maximum (GiB)').blur();
  await page.getByLabel('Minimum (GiB)').fill('4');
  await page.getByLabel('Minimum (GiB)').blur();
  await expect(page.getByLabel('Minimum (GiB)')).not.toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Minimum (GiB)').fill('16');
  await page.getByLabel('Minimum (GiB)').blur();
  await expect(page.getByLabel('Minimum (GiB)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Maximum (GiB)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#mem-max-error')).toHaveText('Minimum memory must not exceed maximum memory');
  await page.screenshot({ path: 'test-results/c11-min-above-max.png', fullPage: true });
});

test('turning a VM off asks first; pattern actions show the VMs they will hit', async ({ page }) => {
  const alice = await apiAs('alice@blue.example');
  const name = unique();
  const created = await alice.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 1 }],
    startAfterCreate: true,
  });
  await expect
    .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: created.vm.id })).state, {
      timeout: 45_000,
    })
    .toBe('running');

  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto(`/portal/vms/${created.vm.id}`);
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Turn off' }).click();
  const dialog = page.getByRole('dialog', { name: `Turn off ${name}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('pulling the power cord');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  // Nothing was asked of the host.
  await page.waitForTimeout(1_000);
  expect((await alice.query<{ state: string }>('vms.get', { id: created.vm.id })).state).toBe('running');

  await page.goto('/portal/vms');
  await page.getByRole('button', { name: 'Act by name pattern' }).click();
  await page.locator('#vm-pattern').fill(`${name.slice(0, -2)}*`);
  const preview = page.getByTestId('pattern-preview');
  await expect(preview).toContainText(name);
  await expect(preview).toContainText(/1\+? VM match/);
  await page.locator('#vm-pattern').fill('no-such-vm-*');
  await expect(preview).toContainText('No VM matches');
  await expect(page.getByRole('button', { name: /matching VMs/ })).toBeDisabled();
  await page.screenshot({ path: 'test-results/c11-pattern-preview.png', fullPage: true });
});
