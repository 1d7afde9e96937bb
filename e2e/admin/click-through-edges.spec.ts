import { expect, type Page, test } from '@playwright/test';
import { sql } from '../fixtures/database';
import { apiAs, signIn } from '../fixtures/session';

// Rough edges a new user met clicking through the console after issues 10–12: the HA events table's header
// sat squeezed over its first column; two tenants' VMs of the same name could not be told apart in the HA and
// migrations tables; HA settings typed in seconds were refused in milliseconds; enable by pattern had no
// application-consistent points; an empty migrations page said "0 most recent". HA events and migration jobs
// are written to the database as the recovery and the migration workflow write them: a real host failure or
// two migrations would take minutes and other specs' VMs with them.

const suffix = Date.now().toString(36);
const twin = `e2e-twin-${suffix}`;

async function tenants() {
  const rows = await sql<{ id: string; name: string }>(
    `SELECT id, name FROM tenants WHERE name IN ('Blue Corp', 'Yellow Corp') ORDER BY name`,
  );
  const [blue, yellow] = rows;
  if (!blue || !yellow) throw new Error('the demo tenants are missing');
  return { blue, yellow };
}

async function signInAdmin(page: Page) {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin/);
}

test('an HA event’s table has its header over its columns and names each VM’s tenant', async ({ page }) => {
  const { blue, yellow } = await tenants();
  const host = `e2e-gone-${suffix}`;
  const [event] = await sql<{ id: string }>(
    `INSERT INTO ha_events (id, cluster_id, host_id, host_name, state, diagnosis, fence_method, last_heartbeat_at,
                            detected_at, fenced_at, finished_at, timeline)
     SELECT gen_random_uuid(), id, gen_random_uuid(), $1, 'recovered', 'dead', 'lease', now() - interval '60 seconds',
            now() - interval '40 seconds', now() - interval '30 seconds', now(), '[]'
     FROM clusters ORDER BY name LIMIT 1
     RETURNING id`,
    [host],
  );
  if (!event) throw new Error('no event');
  try {
    for (const [tenant, rtoMs, reason] of [
      [blue, 15_000, 'started after a long wait for capacity in the cluster, one host after another'],
      [yellow, 16_000, ''],
    ] as const) {
      await sql(
        `INSERT INTO ha_restarts (id, event_id, vm_id, tenant_id, vm_name, priority, from_host_id, state, reason,
                                  from_epoch, last_heartbeat_at, running_at, rto_ms, updated_at)
         VALUES (gen_random_uuid(), $1, gen_random_uuid(), $2, $3, 'high', gen_random_uuid(), 'running', $4, 1,
                 now() - interval '60 seconds', now(), $5, now())`,
        [event.id, tenant.id, twin, reason, rtoMs],
      );
    }
    await signInAdmin(page);
    await page.goto('/admin/ha');
    const table = page.getByRole('table', { name: `VMs of ${host}` });
    await expect(table.getByRole('columnheader')).toHaveText(['VM', 'Tenant', 'Priority', 'State', 'RTO', 'Note']);
    const twins = table.getByRole('row').filter({ hasText: twin });
    await expect(twins).toHaveCount(2);
    await expect(twins.filter({ hasText: 'Blue Corp' })).toHaveCount(1);
    await expect(twins.filter({ hasText: 'Yellow Corp' })).toHaveCount(1);
    // Each header starts where its column starts (it was a row nested in the first header cell).
    const headers = await table
      .getByRole('columnheader')
      .evaluateAll((cells) => cells.map((c) => Math.round(c.getBoundingClientRect().left)));
    const cells = await table
      .getByRole('row')
      .filter({ hasText: 'Blue Corp' })
      .getByRole('cell')
      .evaluateAll((tds) => tds.map((c) => Math.round(c.getBoundingClientRect().left)));
    expect(cells).toHaveLength(6);
    expect(headers).toEqual(cells);
    await page.screenshot({ path: 'test-results/ha-event-table.png', fullPage: true });
  } finally {
    await sql('DELETE FROM ha_events WHERE id = $1', [event.id]);
  }
});

test('HA settings typed in seconds are refused in seconds', async ({ page }) => {
  await signInAdmin(page);
  await page.goto('/admin/ha');
  const form = page.getByTestId('ha-settings-form');
  await form.getByLabel('Detection timeout (s)').fill('700');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await expect(form).toContainText('detection timeout must be at most 600 s');
  // A rule between fields, with the values as typed.
  await form.getByLabel('Detection timeout (s)').fill('25');
  await form.getByLabel('Isolation timeout (s)').fill('20');
  await form.getByLabel('Fencing timeout (s)').fill('20');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await expect(form).toContainText('The detection timeout (25 s) must not exceed the fencing timeout (20 s)');
  await expect(form).not.toContainText(/\d ms\b/);
});

test('two tenants’ migrations of same-name VMs name their tenants', async ({ page }) => {
  const { blue, yellow } = await tenants();
  const jobs = await sql<{ id: string }>(
    `INSERT INTO jobs (id, kind, target_type, target_id, target_label, tenant_id, requested_by, state, finished_at)
     SELECT gen_random_uuid(), 'mobility.migrate-vm', 'vm', gen_random_uuid()::text, $1, t, 'e2e', 'succeeded', now()
     FROM unnest($2::uuid[]) AS t
     RETURNING id`,
    [twin, [blue.id, yellow.id]],
  );
  try {
    await signInAdmin(page);
    await page.goto('/admin/migrations');
    const table = page.getByRole('table', { name: 'Migrations' });
    await expect(table.getByRole('columnheader', { name: 'Tenant' })).toBeVisible();
    const rows = table.getByRole('row').filter({ hasText: twin });
    await expect(rows.filter({ hasText: 'Blue Corp' })).toHaveCount(1);
    await expect(rows.filter({ hasText: 'Yellow Corp' })).toHaveCount(1);
  } finally {
    await sql('DELETE FROM jobs WHERE id = ANY($1::uuid[])', [jobs.map((j) => j.id)]);
  }
});

test('a migrations page with none says so and what starts one, not "0 most recent"', async ({ page }) => {
  // Other specs migrate VMs in this stack: the history is answered empty, as on a new installation.
  await page.route('**/api/trpc/**', async (route) => {
    const url = new URL(route.request().url());
    const procedures = decodeURIComponent(url.pathname.replace(/^.*\/api\/trpc\//, '')).split(',');
    const at = procedures.indexOf('mobility.history');
    if (at < 0) return route.continue();
    const response = await route.fetch();
    const body = (await response.json()) as unknown;
    const empty = { result: { data: { json: [] } } };
    const json = Array.isArray(body) ? body.map((entry, i) => (i === at ? empty : entry)) : empty;
    return route.fulfill({ response, json });
  });
  await signInAdmin(page);
  await page.goto('/admin/migrations');
  await expect(page.getByText('No migrations yet')).toBeVisible();
  await expect(page.getByText(/Migrate a VM from its page, many at once by pattern below/)).toBeVisible();
  await expect(page.locator('main')).not.toContainText('0 most recent');
});

test('enable replication by pattern offers application-consistent points, as the single-VM form does', async ({
  page,
}) => {
  test.setTimeout(150_000);
  const alice = await apiAs('alice@blue.example');
  const name = `e2e-acpat-${suffix}`;
  const vmId = (
    await alice.mutate<{ vm: { id: string } }>('vms.create', {
      name,
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 512 },
      disks: [{ sizeGiB: 1, pool: 'ClusterStorage-Volume1' }], // Production: the replica site is the other cluster
      startAfterCreate: false,
    })
  ).vm.id;
  try {
    await expect
      .poll(async () => (await alice.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
      .toBe('off');
    await signIn(page, 'alice@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.goto('/portal/replication');
    const enable = page.getByTestId('enable-by-pattern');
    await enable.getByLabel('VM name pattern').fill(name);
    await expect(enable.getByLabel('Replica site').locator('option').first()).toHaveText('Replica site 1');
    await enable.getByLabel('Application-consistent points').selectOption({ label: 'Every 4 hours' });
    await enable.getByRole('button', { name: 'Preview' }).click();
    await expect(enable.getByTestId('enable-pattern-preview')).toContainText('1 VM matches: 1 will replicate');
    await enable.getByRole('button', { name: 'Enable replication for 1 VM' }).click();
    await expect(enable.getByTestId('pattern-result')).toContainText('1 started');
    await expect
      .poll(
        async () =>
          (
            await alice.query<{ relationship: { appConsistentHours: number | null } } | null>('replication.get', {
              vmId,
            })
          )?.relationship.appConsistentHours,
        { timeout: 60_000 },
      )
      .toBe(4);
  } finally {
    await alice.mutate('vms.act', { id: vmId, action: 'delete' }).catch(() => undefined);
  }
});
