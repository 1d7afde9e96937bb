import { expect, type Page, test } from '@playwright/test';
import type { ApiClient } from '../../apps/api/src/testing/api-client';
import { apiAs, signIn } from '../fixtures/session';

// The demo's dr-web-01 replicates every 30 s: each cycle is a "Replica cycle"
// and a "Replica retention" task, which buried a tenant's own Create/Start
// tasks within minutes (the portal's first task read "Replica retain"). The
// Tasks panel leaves such scheduled background work out until "Show scheduled
// background work" is ticked; replication someone started stays listed, and
// the Kind filter offers every kind of task by name.

/** Waits until dr-web-01 has replicated at least once (a Replica cycle task exists for Blue). */
async function cyclesExist(alice: ApiClient) {
  await expect
    .poll(async () => (await alice.query<{ total: number }>('tasks.list', { kind: 'replica.cycle' })).total, {
      timeout: 180_000,
      intervals: [2_000],
    })
    .toBeGreaterThan(0);
}

const rows = (page: Page) => page.getByTestId('task-row');
const background = (page: Page) => page.getByRole('checkbox', { name: /Show scheduled background work/ });

test('a tenant’s Tasks leave replication cycles out until asked, and keep the replication it started', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const alice = await apiAs('alice@blue.example');
  await cyclesExist(alice);

  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/tasks?q=dr-web-01');
  await expect(page.getByRole('heading', { level: 1, name: 'Tasks' })).toBeVisible();
  // What Alice did to the VM is listed; the cycles are not, nor counted as running.
  await expect(rows(page).filter({ hasText: 'Enable replication' }).first()).toBeVisible();
  await expect(rows(page).filter({ hasText: 'Create VM' }).first()).toBeVisible();
  await expect(rows(page).filter({ hasText: /Replica (cycle|retention)/ })).toHaveCount(0);
  await expect(background(page)).not.toBeChecked();

  await background(page).check();
  await expect(page).toHaveURL(/background=1/);
  await expect(rows(page).filter({ hasText: 'Replica cycle' }).first()).toBeVisible();
  await expect(rows(page).filter({ hasText: 'Replica retention' }).first()).toBeVisible();
  await background(page).uncheck();
  await expect(page).not.toHaveURL(/background=1/);
  await expect(rows(page).filter({ hasText: /Replica (cycle|retention)/ })).toHaveCount(0);

  // Every kind a tenant can have is offered by name; the provider's own are not.
  const kind = page.getByLabel('Kind');
  for (const label of ['Create VM', 'Enable replication', 'Failover', 'Migrate VM', 'Move VM storage']) {
    await expect(kind.locator('option', { hasText: label }).first()).toBeAttached();
  }
  await expect(kind.locator('option', { hasText: 'Close month' })).toHaveCount(0);
  await expect(kind.locator('option', { hasText: 'HA recovery' })).toHaveCount(0);
  // Picking a background kind lists it, and the box says so.
  await kind.selectOption('replica.cycle');
  await expect(page).toHaveURL(/kind=replica\.cycle/);
  await expect(rows(page).first()).toContainText('Replica cycle');
  await expect(background(page)).toBeChecked();
  await expect(background(page)).toBeDisabled();
});

test('the admin’s Tasks hide background work too, and the Kind filter names every kind of job', async ({ page }) => {
  await cyclesExist(await apiAs('alice@blue.example'));
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/tasks');
  await expect(page.getByRole('heading', { level: 1, name: 'Tasks' })).toBeVisible();
  await expect(rows(page).first()).toBeVisible();
  await expect(rows(page).filter({ hasText: /Replica (cycle|retention)/ })).toHaveCount(0);
  await background(page).check();
  await expect(
    rows(page)
      .filter({ hasText: /Replica (cycle|retention)/ })
      .first(),
  ).toBeVisible();

  const kind = page.getByLabel('Kind');
  for (const label of [
    'Close month',
    'HA recovery',
    'Migrate VM',
    'Move VM storage',
    'Enable replication',
    'Test failover',
    'Remove replication',
    'Replica cycle (scheduled)',
    'Any migration host step',
  ]) {
    await expect(kind.locator('option', { hasText: label }).first()).toBeAttached();
  }
});
