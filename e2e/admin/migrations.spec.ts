import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Mobility (issue 12) in the console: the admin picks a destination from the
// hosts (or "best", with the engine's words), migrates a VM, follows it, and
// finds it on the Migrations page with its prediction beside what happened.
// The VM is the test's own and is deleted at the end: other tests count VMs.

const vmName = `e2e-move-${Date.now().toString(36)}`;

test('an admin migrates a VM to the engine’s best host and finds it on the Migrations page', async ({ page }) => {
  const alice = await apiAs('alice@blue.example');
  const admin = await apiAs('admin@fabric.local'); // tenants are not told host names
  const created = await alice.mutate<{ vm: { id: string } }>('vms.create', {
    name: vmName,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 10, pool: 'ClusterStorage-Volume1' }], // a pool every Production host reaches
    startAfterCreate: false,
  });
  const vmId = created.vm.id;
  try {
    await expect
      .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
      .toBe('off');
    const before = await admin.query<{ hostName: string | null }>('vms.get', { id: vmId });
    expect(before.hostName).toBeTruthy();

    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto(`/admin/vms/${vmId}`);
    const destination = page.locator('#migrate-to'); // the Move storage card has a Destination too
    await expect(destination).toHaveValue('best');
    // The picker offers the connected hosts by name, not ids to type.
    await expect(destination.locator('option')).not.toHaveCount(1);
    await expect(page.getByText(/Placed on .+\. The VM is off: a cold move\./)).toBeVisible();
    const migrate = page.getByRole('button', { name: /^Migrate to (?!…)/ });
    const target = ((await migrate.textContent()) ?? '').replace('Migrate to ', '').trim();
    expect(target).not.toBe(before.hostName);
    await migrate.click();
    await expect(page.getByText('Migration started.')).toBeVisible();

    await page.getByRole('link', { name: 'Migrations' }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: 'Migrations' })).toBeVisible();
    const row = page.getByRole('table', { name: 'Migrations' }).getByRole('row').filter({ hasText: vmName });
    await expect(row).toContainText(`→ ${target}`);
    await expect(row).toContainText('cold');
    await expect(row).toContainText('succeeded', { timeout: 60_000 });
    await expect
      .poll(async () => (await admin.query<{ hostName: string | null }>('vms.get', { id: vmId })).hostName, {
        timeout: 30_000,
      })
      .toBe(target);
  } finally {
    await alice.mutate('vms.act', { id: vmId, action: 'delete' }).catch(() => undefined);
  }
});
