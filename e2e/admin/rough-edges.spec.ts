import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Issue 9, class 11: rough edges a new user met in the admin console.

test('a what-if of 80 VMs is placed (its input no longer rides in the URL); the form says its limit', async ({
  page,
}) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/clusters');
  await page.getByRole('link', { name: /^Production: what if/ }).click();
  await expect(page.getByRole('heading', { name: 'What if · Production' })).toBeVisible();
  await expect(page.locator('#wi-count-hint')).toHaveText('At most 500');
  await page.getByLabel('Tenant').selectOption({ label: 'Blue Corp' });
  await page.getByLabel('Number of VMs').fill('80');
  await page.getByLabel('vCPUs each').fill('1');
  await page.getByLabel('Memory each').fill('1');
  await page.getByLabel('Disk each').fill('10');
  await page.getByRole('button', { name: 'Place 80 VMs' }).click();
  await expect(page.getByTestId('what-if-placed')).toHaveText(/of 80 placed/);
  await expect(page.getByTestId('what-if-row')).toHaveCount(80);
  // No failure shown in the form (the route announcer is an alert of its own).
  await expect(page.locator('#place-form [role="alert"]')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/c11-what-if-80.png', fullPage: true });
});

test("a placement trace's columns are named for people, not in code", async ({ page }) => {
  const alice = await apiAs('alice@blue.example');
  const created = await alice.mutate<{ decisionId: string }>('vms.create', {
    name: `c11-trace-${Date.now().toString(36)}`,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 1 }],
  });
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto(`/admin/placement/${created.decisionId}`);
  const headers = page.getByTestId('placement-trace').locator('thead th');
  await expect(headers.filter({ hasText: 'VM limits (cluster, host)' })).toHaveCount(1);
  await expect(headers.filter({ hasText: 'Network bandwidth (QoS)' })).toHaveCount(1);
  await expect(headers.filter({ hasText: 'CPU headroom' })).toHaveCount(1);
  const texts = (await headers.allTextContents()).join('|');
  expect(texts).not.toMatch(/vm limits|nic qos|Vm Limits|Nic Qos/);
  await page.screenshot({ path: 'test-results/c11-placement-trace.png', fullPage: true });
});
