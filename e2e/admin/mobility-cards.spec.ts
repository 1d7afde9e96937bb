import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// The VM page's mobility cards and the rebalancing page as a new admin meets
// them (issue 12's click-through and hostile probe): the Migrate picker does
// not offer the VM's own host; Move storage refuses nothing before it is asked,
// links the task it started and shows the disks where they went; the Placement
// card says the VM moved after its placement; the rebalancing form refuses
// "0x0A" for a number, and says "Could be powered off" once.
// The VM is the test's own and is deleted at the end: other tests count VMs.

const vmName = `e2e-cards-${Date.now().toString(36)}`;

test('the VM page’s Migrate, Move storage and Placement cards follow a move', async ({ page }) => {
  test.setTimeout(180_000);
  const alice = await apiAs('alice@blue.example');
  const admin = await apiAs('admin@fabric.local');
  const created = await alice.mutate<{ vm: { id: string } }>('vms.create', {
    name: vmName,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 10, pool: 'ClusterStorage-Volume1' }], // a pool every Production host reaches
    startAfterCreate: false,
  });
  const vmId = created.vm.id;
  let maintenanceHostId: string | null = null;
  try {
    await expect
      .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
      .toBe('off');
    const before = await admin.query<{ hostName: string }>('vms.get', { id: vmId });
    // Another Production host in maintenance while the admin looks: listed, not choosable, not "best".
    const hosts = await admin.query<{ rows: { id: string; name: string; clusterName: string; state: string }[] }>(
      'hosts.list',
      { pageSize: 100 },
    );
    const production = hosts.rows.filter((h) => h.clusterName === 'Production' && h.state === 'connected');
    const away = production.find((h) => h.name !== before.hostName);
    if (!away || production.length < 3) throw new Error('the demo has too few connected Production hosts');
    await admin.mutate('hosts.setMaintenance', { id: away.id, enabled: true, reason: 'e2e: mobility cards' });
    maintenanceHostId = away.id;

    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto(`/admin/vms/${vmId}`);
    await expect(page.getByTestId('vm-name')).toHaveText(vmName);

    // Migrate: the VM's own host is listed as the current host and cannot be chosen.
    const destination = page.locator('#migrate-to');
    const own = destination.locator('option', { hasText: `${before.hostName} (` });
    await expect(own).toHaveCount(1);
    await expect(own).toContainText('current host');
    await expect(own).toBeDisabled();
    await expect(destination.locator('option:not([disabled])')).not.toHaveCount(1);
    const inMaintenance = destination.locator('option', { hasText: `${away.name} (` });
    await expect(inMaintenance).toContainText('in maintenance');
    await expect(inMaintenance).toBeDisabled();

    // Move storage: nothing chosen, nothing refused before the admin asks.
    const storage = page.getByTestId('storage-move-card');
    const pool = page.locator('#storage-move-to');
    await expect(pool).toHaveValue('');
    await expect(pool.locator('option', { hasText: 'ClusterStorage-Volume1' })).toContainText('the disks are here');
    await expect(pool.locator('option', { hasText: 'ClusterStorage-Volume1' })).toBeDisabled();
    await expect(storage.getByRole('alert')).toHaveCount(0);
    await expect(storage.getByTestId('storage-move-refusal')).toHaveCount(0);
    await expect(storage.getByRole('button', { name: 'Move storage' })).toBeDisabled();

    await pool.selectOption('Local');
    await expect(storage.getByText(/to Local on /)).toBeVisible();
    await storage.getByRole('button', { name: 'Move storage to Local' }).click();
    const started = page.getByTestId('storage-move-task');
    await expect(started.getByRole('link', { name: 'Follow it in Tasks' })).toHaveAttribute(
      'href',
      /^\/admin\/tasks\/[0-9a-f-]{36}$/,
    );
    await expect(started.getByTestId('task-state')).toHaveText(/succeeded/i, { timeout: 90_000 });
    // When it ended the page read the VM again: the disk is on Local, and Local is where the disks are.
    await expect(page.getByRole('cell', { name: 'Local', exact: true })).toBeVisible();
    await expect(pool.locator('option', { hasText: 'Local (' })).toContainText('the disks are here');
    await expect(storage.getByRole('alert')).toHaveCount(0);

    // Placement before the move: the decision as made. Then a migration to "best".
    const placement = page.getByTestId('vm-placement');
    await expect(placement).toContainText(`Placed on ${before.hostName}`);
    await expect(placement).not.toContainText('Now on');
    await expect(page.getByText(/Placed on .+ other hosts? fit\)\. The VM is off: a cold move\./)).toBeVisible();
    const migrate = page.getByRole('button', { name: /^Migrate to (?!…)/ });
    await expect(migrate).toBeEnabled();
    const target = ((await migrate.textContent()) ?? '').replace('Migrate to ', '').trim();
    expect(target).not.toBe(before.hostName);
    expect(target).not.toBe(away.name);
    await migrate.click();
    await expect(page.getByText('Migration started.')).toBeVisible();
    await expect(page.getByText(`Now on ${target}: moved by a migration after this placement`)).toBeVisible({
      timeout: 90_000,
    });
    await expect(placement).toContainText(`(which chose ${before.hostName})`);
    await expect(placement).toContainText(`At placement`);
    await expect(page.getByRole('link', { name: 'Why it was placed there' })).toBeVisible();
    // The picker follows: the new host is now the current one.
    await expect(destination.locator('option', { hasText: `${target} (` })).toContainText('current host');
    await page.screenshot({ path: 'test-results/mobility-cards.png', fullPage: true });
  } finally {
    await alice.mutate('vms.act', { id: vmId, action: 'delete' }).catch(() => undefined);
    if (maintenanceHostId) {
      await admin.mutate('hosts.setMaintenance', { id: maintenanceHostId, enabled: false }).catch(() => undefined);
    }
  }
});

test('the rebalancing form refuses hex for a number, and says "Could be powered off" once', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/clusters');
  await page.getByRole('link', { name: /^Production: rebalancing/ }).click();
  await expect(page.getByRole('heading', { name: 'Rebalancing', level: 1 })).toBeVisible();
  const interval = page.getByLabel('Interval (minutes)');
  const was = await interval.inputValue();

  // Number('0x0A') is 10: the form said nothing and saved 10.
  await interval.fill('0x0A');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('the interval must be a whole number (digits only), not "0x0A"')).toBeVisible();
  await expect(interval).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel('Interval (minutes)')).toHaveValue(was);

  // Consolidation's plan names the hosts that could be powered off on one line, not again in the summary.
  const goal = page.getByLabel('Goal');
  const goalWas = await goal.inputValue();
  await goal.selectOption('consolidate');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  try {
    await page.getByRole('button', { name: 'Plan now' }).click();
    await expect(page.getByTestId('rebalance-summary')).toBeVisible();
    await expect(page.getByTestId('rebalance-power-off')).toBeVisible();
    await expect(page.getByText(/could be powered off/i)).toHaveCount(1);
  } finally {
    await page.getByLabel('Goal').selectOption(goalWas);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  }
});
