import { expect, test } from '@playwright/test';
import { DEMO_HOSTS } from '../../prisma/seed';
import { signIn } from '../fixtures/session';

const PRODUCTION_HOSTS = DEMO_HOSTS.filter((h) => h.cluster === 'Production').map((h) => h.hostname);

test('the admin checks N+1, places 10 VMs without creating them and plans an evacuation', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  // The overview tells each cluster's N+1 status.
  await expect(page.getByTestId('n-plus-one-status').first()).toBeVisible();

  await page.goto('/admin/clusters');
  await page.getByRole('link', { name: /^Production: what if/ }).click();
  await expect(page).toHaveURL(/\/admin\/clusters\/[0-9a-f-]+\/what-if/);
  await expect(page.getByRole('heading', { name: 'What if · Production' })).toBeVisible();

  // (a) N+1: one row per connected Production host.
  const n1 = page.getByRole('table', { name: 'N+1 per host' });
  for (const host of PRODUCTION_HOSTS) {
    await expect(n1.getByRole('row').filter({ hasText: host })).toHaveCount(1);
  }
  await expect(n1.getByRole('row').filter({ hasText: 'hv-dev-' })).toHaveCount(0);

  // (c) Place 10 VMs for Blue Corp: a what-if, nothing is created.
  await expect(page.getByText('Nothing is created', { exact: true })).toBeVisible();
  await page.getByLabel('Tenant').selectOption({ label: 'Blue Corp' });
  await page.getByLabel('Number of VMs').fill('10');
  await page.getByLabel('vCPUs each').fill('2');
  await page.getByLabel('Memory each').fill('4');
  await page.getByLabel('Disk each').fill('20');
  await page.getByRole('button', { name: 'Place 10 VMs' }).click();
  await expect(page.getByTestId('what-if-placed')).toHaveText('10 of 10 placed');
  await expect(page.getByTestId('what-if-row')).toHaveCount(10);
  await expect(page.getByTestId('what-if-row').first()).toContainText('whatif-1');
  const placedOn = await page.getByTestId('what-if-row').first().getByRole('link').textContent();
  expect(PRODUCTION_HOSTS).toContain(placedOn?.trim());

  // (b) Evacuate hv-prod-01: the plan, or "Nothing to move" when it runs no VMs.
  await page.getByRole('button', { name: 'Plan evacuation of hv-prod-01' }).click();
  await expect(page).toHaveURL(/host=[0-9a-f-]+/);
  await expect(page.getByLabel('Host to empty')).toHaveValue(/[0-9a-f-]{36}/);
  await expect(page.getByTestId('evacuation-plan').or(page.getByText('Nothing to move'))).toBeVisible();

  // The same plan from the host's page.
  await page.getByRole('link', { name: 'Open hv-prod-01' }).click();
  await expect(page.getByRole('heading', { name: 'hv-prod-01', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Plan evacuation', exact: true }).click();
  await expect(page.getByTestId('evacuation-plan').or(page.getByText('Nothing to move'))).toBeVisible();

  // Nothing was created: the what-if VMs are nowhere in the VM list.
  await page.goto('/admin/vms?q=whatif');
  await expect(page.getByText('No VMs match these filters')).toBeVisible();
});
