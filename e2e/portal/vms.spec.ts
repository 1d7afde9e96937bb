import { expect, type Page, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// One VM made through the wizard, then explained to the admin: the tests share it, in order.
test.describe.configure({ mode: 'serial' });

const vmName = `e2e-web-${Date.now().toString(36)}`;

interface QuotaAndUsage {
  quota: Record<string, number>;
  usage: { vcpus: number } & Record<string, number>;
}

async function markPage(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { __fabricMarker: number }).__fabricMarker = 7;
  });
}

async function pageWasNotReloaded(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __fabricMarker?: number }).__fabricMarker)).toBe(7);
}

async function blueTenantId(): Promise<string> {
  const admin = await apiAs('admin@fabric.local');
  const tenants = await admin.query<{ id: string; name: string }[]>('tenants.list');
  const blue = tenants.find((t) => t.name === 'Blue Corp');
  if (!blue) throw new Error('no Blue Corp tenant');
  return blue.id;
}

test('a Blue user creates a VM in the wizard and watches it reach running, live', async ({ page }) => {
  await signIn(page, 'bob@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.getByRole('link', { name: 'Virtual machines' }).first().click();
  await expect(page).toHaveURL(/\/portal\/vms/);
  await expect(page.getByRole('region', { name: 'Quota and usage' })).toBeVisible();

  await page.getByRole('link', { name: 'New VM' }).first().click();
  await expect(page.getByRole('heading', { name: 'New virtual machine' })).toBeVisible();

  // Live validation: a bad name is explained before anything is sent.
  await page.locator('#vm-name').fill('-bad name');
  await page.locator('#vm-name').blur();
  await expect(page.getByText(/letters, digits, dots, hyphens and underscores/)).toBeVisible();

  await page.locator('#vm-name').fill(vmName);
  await page.locator('#vm-vcpus').fill('2');
  await page.getByLabel('Memory (GiB)').fill('2');
  // Headroom before submit, in the user's units.
  await expect(page.getByTestId('quota-headroom')).toContainText(/this VM uses 2 of your \d+ remaining vCPUs/);

  await page.getByRole('button', { name: 'Create VM' }).click();
  await expect(page).toHaveURL(/\/portal\/vms\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  await expect(page.getByTestId('vm-name')).toHaveText(vmName);
  await markPage(page);

  // The agents create and start it; the badge follows vms.onChange without a reload.
  await expect(page.getByTestId('vm-state').first()).toHaveText('running', { timeout: 90_000 });
  await pageWasNotReloaded(page);
  await expect(page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Pause' })).toBeVisible();
  await expect(
    page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Start', exact: true }),
  ).toHaveCount(0);

  await page.getByRole('link', { name: 'Virtual machines' }).first().click();
  const row = page.getByTestId('vm-row').filter({ hasText: vmName });
  await expect(row).toBeVisible();
  await expect(row.getByTestId('vm-state')).toHaveText('running');
});

test("the form puts the API schema's messages beside the fields they concern, before anything is sent", async ({
  page,
}) => {
  await signIn(page, 'bob@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/vms/new');
  await page.locator('#vm-name').fill(`${vmName}-rules`);

  // Dynamic Memory: minimum above startup is refused at the minimum.
  await page.getByText('Dynamic Memory', { exact: true }).click();
  await page.getByLabel('Startup (GiB)').fill('2');
  await page.getByLabel('Minimum (GiB)').fill('4');
  await page.getByLabel('Minimum (GiB)').blur();
  await expect(page.locator('#mem-min-error')).toHaveText('Minimum memory must not exceed startup memory');
  await expect(page.getByLabel('Minimum (GiB)')).toHaveAttribute('aria-invalid', 'true');

  // A second disk with the first one's name: the message is on the second disk's name.
  await page.getByRole('button', { name: 'Add disk' }).click();
  const diskNames = page.getByRole('group', { name: 'Disks' }).getByLabel('Name');
  await diskNames.nth(1).fill('disk0');
  await diskNames.nth(1).blur();
  await expect(diskNames.nth(1)).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Disk names must be unique')).toHaveCount(1);

  // A blank vCPU count; submitting shows every problem and takes the keyboard to the first one.
  await page.locator('#vm-vcpus').fill('');
  await page.getByRole('button', { name: 'Create VM' }).click();
  await expect(page.locator('#vm-vcpus-error')).toHaveText('vCPUs is required');
  // Four: minimum above startup marks both fields of the rule.
  await expect(page.getByText('Fix 4 fields above')).toBeVisible();
  await expect(page.locator('#vm-vcpus')).toBeFocused();
  await expect(page).toHaveURL(/\/portal\/vms\/new$/);
});

test('a create over quota is refused with a clear message', async ({ page }) => {
  const admin = await apiAs('admin@fabric.local');
  const tenantId = await blueTenantId();
  const before = await admin.query<QuotaAndUsage>('quotas.get', { tenantId });
  // Room for one more vCPU only.
  const tiny = { ...before.quota, maxVcpus: before.usage.vcpus + 1 };
  await admin.mutate('quotas.set', { tenantId, quota: tiny });
  try {
    await signIn(page, 'bob@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.goto('/portal/vms/new');
    await page.locator('#vm-name').fill(`${vmName}-big`);
    await page.locator('#vm-vcpus').fill('4');
    await expect(page.getByTestId('quota-headroom')).toContainText('this VM needs 4 vCPUs, only 1 remain');
    await expect(page.getByText(/Over quota: this VM needs 4 vCPUs, only 1 remain/)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create VM' })).toBeDisabled();

    // The server says the same to anyone who skips the form.
    const bob = await apiAs('bob@blue.example');
    const refused = await bob.call('vms.create', 'mutation', {
      name: `${vmName}-api`,
      vcpus: 4,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ name: 'disk0', sizeGiB: 8 }],
    });
    expect(refused).toMatchObject({ ok: false, code: 'UNPROCESSABLE_CONTENT' });
    expect(refused.ok ? '' : refused.message).toMatch(/Quota exceeded: vCPUs: \d+ of \d+ in use, this VM needs 4/);
  } finally {
    await admin.mutate('quotas.set', { tenantId, quota: before.quota });
  }
});

test('the admin opens the placement decision of that VM', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin/);
  await page.goto(`/admin/vms?q=${vmName}`);
  const row = page.getByTestId('vm-row').filter({ hasText: vmName });
  await expect(row).toBeVisible();
  await expect(row).toContainText('Blue Corp');
  await row.getByRole('link', { name: vmName }).click();

  await expect(page.getByTestId('vm-name')).toHaveText(vmName);
  await page.getByRole('link', { name: 'Why this host?' }).click();
  await expect(page).toHaveURL(/\/admin\/placement\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('decision-summary')).toContainText(/Placed on/);
  const trace = page.getByTestId('placement-trace');
  await expect(trace.getByTestId('trace-row').first()).toContainText('chosen');
  await expect(trace.getByTestId('trace-row').first()).toContainText('#1');

  // Expanding a row shows the numbers behind its verdicts and scores.
  await trace
    .getByRole('button', { name: /Show the numbers for/ })
    .first()
    .click();
  await expect(trace.getByText('Contribution')).toBeVisible();
});
