import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Fencing through a BMC in the console (issue 11): every demo host has a simulated Redfish BMC beside its
// agent, its login set through the API once the host registered (scripts/lib/demo-bmcs.ts). The host page's
// BMC card shows it without the password and refuses a bad URL with the rule; the HA page's settings say what
// the fence method "BMC power-off" does.

test('a host’s BMC card shows its login without the password, and the HA settings explain BMC fencing', async ({
  page,
}) => {
  const admin = await apiAs('admin@fabric.local');
  const hosts = await admin.query<{ rows: { id: string; name: string }[] }>('hosts.list', { search: 'hv-dev-01' });
  const host = hosts.rows.find((h) => h.name === 'hv-dev-01');
  expect(host).toBeTruthy();
  await expect
    .poll(async () => admin.query<{ passwordSet: boolean } | null>('hosts.bmc', { hostId: host?.id }), {
      timeout: 120_000,
    })
    .toMatchObject({ passwordSet: true });
  // The demo BMC answers with the login the API keeps (sealed): a real Redfish GET, as the recovery does.
  const bmc = await admin.query<{ url: string; username: string }>('hosts.bmc', { hostId: host?.id });
  const unauthorized = await fetch(`${bmc.url}/redfish/v1/Systems/1`);
  expect(unauthorized.status).toBe(401);

  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto(`/admin/hosts/${host?.id}`);
  const card = page.getByRole('region', { name: /BMC/ }).or(page.locator('[aria-labelledby="bmc-heading"]'));
  await expect(page.getByTestId('bmc-status')).toContainText(`Set: admin at ${bmc.url}; password set`);
  await expect(card.getByLabel('Password')).toHaveValue('');
  await card.getByLabel('Redfish URL').fill('ftp://10.0.0.5');
  await card.getByRole('button', { name: 'Replace' }).click();
  await expect(card).toContainText('BMC URL must be an http(s) URL');
  await page.screenshot({ path: 'test-results/ha-bmc-card.png', fullPage: true });

  await page.goto('/admin/ha');
  const form = page.getByTestId('ha-settings-form');
  await form.getByLabel('Fence method').selectOption('bmc');
  await expect(form).toContainText('Power the host off out of band through its BMC');
  await expect(form).toContainText('falls back to the lease');
  await page.screenshot({ path: 'test-results/ha-settings-bmc.png', fullPage: true });
});
