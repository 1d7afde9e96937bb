import { expect, type Page, test } from '@playwright/test';
import { apiAs, expectNoText, signIn } from '../fixtures/session';

// The Tasks panel: a month close and VM actions are tasks people watch live.
// The tenant's test checks that the provider's close (from the first) stays hidden.
test.describe.configure({ mode: 'serial' });

const now = new Date();
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
const month = lastMonth.toISOString().slice(0, 7);
const label = lastMonth.toLocaleDateString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const vmName = `e2e-tasks-${Date.now().toString(36)}`;
const SHOTS = process.env.FABRIC_SHOTS_DIR;

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function markPage(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { __fabricMarker: number }).__fabricMarker = 7;
  });
}

async function pageWasNotReloaded(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __fabricMarker?: number }).__fabricMarker)).toBe(7);
}

test('finance closes a month and follows its task to the end, with its four steps done', async ({ page }) => {
  const finance = await apiAs('finance@fabric.local');
  await signIn(page, 'finance@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByRole('link', { name: 'Invoices' }).first().click();
  const periods = page.getByRole('table', { name: 'Billing periods' });
  const row = periods.getByRole('row', { name: new RegExp(label) });
  await expect(row).toBeVisible();

  const already = (await finance.query<unknown[]>('chargeback.invoices', { month })).length > 0;
  if (!already) {
    await row.getByRole('button', { name: `Close ${label}` }).click();
    const dialog = page.getByRole('dialog', { name: `Close ${label}?` });
    await dialog.getByRole('button', { name: 'Close month' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
  }
  await expect(row).toContainText('Closed');
  await shot(page, 'invoices-closed');

  // The closed month links to the task that closed it.
  await row.getByRole('link', { name: `View the task that closed ${label}` }).click();
  await expect(page).toHaveURL(/\/admin\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Close month · ${label}`);
  await expect(page.getByTestId('task-state')).toHaveText('Succeeded');
  const steps = page.getByRole('list', { name: 'Steps' }).getByTestId('task-step');
  await expect(steps).toHaveCount(4);
  for (const step of [
    'Roll up pending usage',
    'List the tenants to invoice',
    'Rate and freeze invoices',
    'Record the month closed',
  ]) {
    await expect(steps.filter({ hasText: step })).toHaveAttribute('data-state', 'done');
  }
  await expect(page.getByTestId('task-result')).toHaveText(/Closed \d{4}-\d{2}: \d+ invoices, total/);
  await shot(page, 'task-detail');

  // The panel lists it, and its target goes back to the month's invoices. Filters live in the URL and
  // are applied by the server: the Kind filter finds the close even when other work (the other specs'
  // migrations, replication, HA) has pushed it off the first page.
  await page.getByRole('link', { name: 'Tasks' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Tasks' })).toBeVisible();
  await page.getByLabel('Kind').selectOption('billing.close-month');
  await expect(page).toHaveURL(/kind=billing.close-month/);
  const close = page.getByTestId('task-row').filter({ hasText: 'Close month' }).filter({ hasText: label });
  await expect(close.first()).toBeVisible();
  await expect(close.first().getByTestId('task-state')).toHaveText('Succeeded');
  await expect(close.first()).toContainText('finance@fabric.local');
  await shot(page, 'tasks-admin');

  await page
    .getByRole('radiogroup', { name: 'Filter by state' })
    .getByRole('radio', { name: /^Failed/ })
    .click();
  await expect(page).toHaveURL(/state=failed/);
  await expect(page.getByTestId('task-row').filter({ hasText: label })).toHaveCount(0);
  await page
    .getByRole('radiogroup', { name: 'Filter by state' })
    .getByRole('radio', { name: /^Succeeded/ })
    .click();
  await expect(page).toHaveURL(/state=succeeded/);
  await expect(page.getByTestId('task-row').filter({ hasText: label })).toHaveCount(1);

  await close.first().getByRole('link', { name: label }).click();
  await expect(page).toHaveURL(/\/admin\/invoices\?month=/);
  await expect(page.getByRole('table', { name: `Invoices of ${label}` })).toBeVisible();
});

test('a tenant admin starts and shuts down a VM and watches its tasks appear live, without the provider’s', async ({
  page,
  context,
}) => {
  const alice = await apiAs('alice@blue.example');
  const created = await alice.mutate<{ vm: { id: string } }>('vms.create', {
    name: vmName,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 1024 },
    disks: [{ sizeGiB: 20 }],
    startAfterCreate: false,
  });
  const vmId = created.vm.id;
  await expect
    .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
    .toBe('off');

  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.getByRole('link', { name: 'Tasks' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Tasks' })).toBeVisible();
  await expect(page.getByTestId('task-row').filter({ hasText: 'Create VM' }).filter({ hasText: vmName })).toBeVisible();
  await expect(page.getByTestId('tasks-live')).toHaveText(/Live/);
  await markPage(page);

  // The VM's actions in another tab; the panel follows them without a reload.
  const vmPage = await context.newPage();
  await vmPage.goto(`/portal/vms/${vmId}`);
  const toolbar = vmPage.getByRole('toolbar', { name: 'VM actions' });
  await toolbar.getByRole('button', { name: 'Start', exact: true }).click();
  const start = page.getByTestId('task-row').filter({ hasText: 'Start VM' }).filter({ hasText: vmName });
  await expect(start).toBeVisible();
  await expect(start.getByTestId('task-state')).toHaveText('Succeeded', { timeout: 60_000 });

  await expect(vmPage.getByTestId('vm-state').first()).toHaveText('running', { timeout: 60_000 });
  await toolbar.getByRole('button', { name: 'Shut down' }).click();
  const stop = page.getByTestId('task-row').filter({ hasText: 'Shut down VM' }).filter({ hasText: vmName });
  await expect(stop).toBeVisible();
  await expect(stop.getByTestId('task-state')).toHaveText('Succeeded', { timeout: 60_000 });
  await pageWasNotReloaded(page);
  await shot(page, 'tasks-portal');

  // The provider's month close is not the tenant's: neither listed nor offered as a filter.
  await expectNoText(page, /Close month/);
  const hidden = await alice.query<{ total: number }>('tasks.list', { kind: 'billing.' });
  expect(hidden.total).toBe(0);

  // From the VM's page: its tasks only, in the panel.
  await vmPage.getByRole('link', { name: 'All in Tasks' }).click();
  await expect(vmPage).toHaveURL(new RegExp(`/portal/tasks\\?target=${vmId}`));
  await expect(vmPage.getByTestId('task-row')).toHaveCount(3);
  await vmPage.close();

  // A task's page from the panel: no steps of its own, and no host name (the provider's business).
  await stop.getByRole('link', { name: 'Shut down VM' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Shut down VM · ${vmName}`);
  await expect(page.getByTestId('task-state')).toHaveText('Succeeded');
  await expect(page.getByText('Carried out by a host’s agent.')).toBeVisible();
  await expect(page.getByText(/hv-(prod|dev)-/)).toHaveCount(0);
});
