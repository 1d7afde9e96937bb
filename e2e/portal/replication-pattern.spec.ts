import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Pattern forms (issue 10) in the portal: Blue's admin previews "enable
// replication" for a name pattern, sees its own matching VMs (Yellow's VM of
// the same prefix is not there), enables it for them, and reads each VM's
// answer with its task; a planned failover by the same pattern is previewed
// with each VM's reason. The VMs are the test's own and deleted at the end.

const prefix = `e2e-pat-${Date.now().toString(36)}`;
const vm = (n: string) => ({
  name: `${prefix}-${n}`,
  vcpus: 1,
  memory: { mode: 'static', sizeMiB: 512 },
  disks: [{ sizeGiB: 1, pool: 'ClusterStorage-Volume1' }], // Production: the replica site is the other cluster
  startAfterCreate: false,
});

test('a tenant enables replication by pattern for its own VMs only, after a preview', async ({ page }) => {
  test.setTimeout(180_000);
  const alice = await apiAs('alice@blue.example');
  const yara = await apiAs('yara@yellow.example');
  const ids: { client: typeof alice; id: string }[] = [];
  try {
    for (const [client, n] of [
      [alice, '01'],
      [alice, '02'],
      [yara, '09'],
    ] as const) {
      const created = await client.mutate<{ vm: { id: string } }>('vms.create', vm(n));
      ids.push({ client, id: created.vm.id });
    }

    await signIn(page, 'alice@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.getByRole('link', { name: 'Replication' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Replication' })).toBeVisible();

    const enable = page.getByTestId('enable-by-pattern');
    await enable.getByLabel('VM name pattern').fill(`${prefix.toUpperCase()}-*`);
    await expect(enable.getByLabel('Replica site').locator('option').first()).toHaveText('Replica site 1');
    await enable.getByRole('button', { name: 'Preview' }).click();
    const preview = enable.getByTestId('enable-pattern-preview');
    await expect(preview).toContainText('2 VMs match: 2 will replicate');
    await expect(preview).toContainText(`${prefix}-01`);
    await expect(preview).toContainText(`${prefix}-02`);
    await expect(preview).not.toContainText(`${prefix}-09`);
    await expect(preview).toContainText('Replicates to a host the provider authorized');

    await enable.getByRole('button', { name: 'Enable replication for 2 VMs' }).click();
    const result = enable.getByTestId('pattern-result');
    await expect(result).toContainText('2 started');
    await expect(result.getByRole('link', { name: 'Task' })).toHaveCount(2);
    await expect(page.getByTestId('portal-replica-row').filter({ hasText: `${prefix}-01` })).toBeVisible({
      timeout: 30_000,
    });

    // The same pattern again: each is already replicated, the single enable's own refusal; nothing to act on.
    await enable.getByRole('button', { name: 'Preview' }).click();
    await expect(preview).toContainText('2 VMs match: 0 will replicate, 2 cannot');
    await expect(preview).toContainText('is already replicated; remove that replication first');
    await expect(enable.getByRole('button', { name: 'Nothing to enable' })).toBeDisabled();

    // A failover by pattern previews first; the test failover needs a recovery point, which the VMs lack yet.
    const failover = page.getByTestId('failover-by-pattern');
    await failover.getByLabel('VM name pattern').fill(`${prefix}-0?`);
    await failover.getByLabel('Failover').selectOption('planned');
    await failover.getByRole('button', { name: 'Preview' }).click();
    await expect(failover.getByTestId('failover-pattern-preview')).toContainText('2 VMs match');
    await expect(failover.getByTestId('failover-pattern-preview')).not.toContainText(`${prefix}-09`);
    // Test and unplanned failovers choose their point: the latest, the latest application-consistent, or the
    // newest at or before a time (asked for, and Preview waits for it).
    await failover.getByLabel('Failover').selectOption('test');
    const point = failover.getByLabel('Recovery point');
    await expect(point.locator('option')).toHaveText([
      'The latest',
      'The latest application-consistent',
      'The newest at or before a time',
    ]);
    await point.selectOption('at-or-before');
    await expect(failover.getByRole('button', { name: 'Preview' })).toBeDisabled();
    await failover.getByLabel('At or before (your time)').fill('2026-12-04T10:15');
    await expect(failover.getByRole('button', { name: 'Preview' })).toBeEnabled();
    await failover.getByLabel('Failover').selectOption('planned');
    await expect(failover.getByLabel('Recovery point')).toHaveCount(0);
  } finally {
    for (const { client, id } of ids) {
      await client.mutate('vms.act', { id, action: 'delete' }).catch(() => undefined);
    }
  }
});

// Migrate by pattern (issue 12) on the admin Migrations page: the preview names each VM's destination
// (the engine's choice), then the migration runs through the usual workflow and lands.
test('an admin migrates by pattern after a preview naming each destination', async ({ page }) => {
  test.setTimeout(180_000);
  const alice = await apiAs('alice@blue.example');
  const admin = await apiAs('admin@fabric.local');
  const created = await alice.mutate<{ vm: { id: string } }>('vms.create', vm('m1'));
  const vmId = created.vm.id;
  try {
    await expect
      .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
      .toBe('off');
    const before = await admin.query<{ hostName: string | null }>('vms.get', { id: vmId });

    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto('/admin/migrations');
    const card = page.getByTestId('migrate-by-pattern');
    await card.getByLabel('VM name pattern').fill(`${prefix}-m?`);
    await card.getByRole('button', { name: 'Preview' }).click();
    const preview = card.getByTestId('migrate-pattern-preview');
    await expect(preview).toContainText('1 VM matches: 1 will move');
    await expect(preview).toContainText(/Cold \(off\) to \S+/);
    const target = /Cold \(off\) to (\S+?):/.exec((await preview.textContent()) ?? '')?.[1];
    expect(target).toBeTruthy();
    expect(target).not.toBe(before.hostName);

    await card.getByRole('button', { name: 'Migrate 1 VM' }).click();
    await expect(card.getByTestId('pattern-result')).toContainText('1 started');
    await expect
      .poll(async () => (await admin.query<{ hostName: string | null }>('vms.get', { id: vmId })).hostName, {
        timeout: 90_000,
      })
      .toBe(target);
  } finally {
    await alice.mutate('vms.act', { id: vmId, action: 'delete' }).catch(() => undefined);
  }
});
