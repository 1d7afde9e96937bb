import { mkdirSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import pg from 'pg';
import type { ApiClient } from '../../apps/api/src/testing/api-client';
import { apiAs, signIn } from '../fixtures/session';
import { E2E } from '../stack.config';

// Usage and cost over time: a tenant admin sees its charts with data and
// never another tenant's VMs; the provider sees the same per tenant, VM and host.
test.describe.configure({ mode: 'serial' });

const H = 3_600_000;
const suffix = Date.now().toString(36);
const blueVmName = `e2e-usage-${suffix}`;
const yellowVmName = `yellow-usage-${suffix}`;
const SHOTS = process.env.FABRIC_SHOTS_DIR;
let blueVmId = '';
let blueHostId: string | null = null;

async function createVm(client: ApiClient, name: string) {
  const created = await client.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 2,
    memory: { mode: 'static', sizeMiB: 2048 },
    disks: [{ sizeGiB: 40 }],
    startAfterCreate: false,
  });
  return created.vm.id;
}

/**
 * Hourly rollups for the last two days and today so far, as the rollup job
 * writes them from agents' samples (waiting for real samples would take
 * minutes per hour of data). The VM has no raw samples, so the job never
 * rewrites these rows.
 */
async function seedHourlyUsage(vmId: string, tenantId: string, vmName: string) {
  const now = Date.now();
  const start = Math.floor(now / 86_400_000) * 86_400_000 - 2 * 86_400_000;
  const hours = Array.from({ length: Math.floor((now - start) / H) + 1 }, (_, i) => new Date(start + i * H));
  const client = new pg.Client({ connectionString: `postgres://fabric:fabric@127.0.0.1:${E2E.pgPort}/fabric` });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO vm_usage_hourly (vm_id, tenant_id, hour, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
         mem_min_mib, mem_max_mib, disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
         net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds, vcpus, vm_name)
       SELECT $1, $2, h, 60, 3600, (1200 + 800 * sin(extract(epoch FROM h) / 14400)) * 3600, 2048 * 3600, 2048, 2048,
         40 * 3600, 0, 0, 512 * 1024 * 1024, 2 * 1024 * 1024 * 1024::numeric, 0, 0, 3600, 2, $3
       FROM unnest($4::timestamptz[]) AS h
       ON CONFLICT (vm_id, hour) DO NOTHING`,
      [vmId, tenantId, vmName, hours],
    );
  } finally {
    await client.end();
  }
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

test.beforeAll(async () => {
  // The demo's rate card (since last month) prices the cost chart.
  const blue = await apiAs('alice@blue.example');
  const yellow = await apiAs('yara@yellow.example');
  blueVmId = await createVm(blue, blueVmName);
  await createVm(yellow, yellowVmName);
  const admin = await apiAs('admin@fabric.local');
  const tenants = await admin.query<{ id: string; name: string }[]>('tenants.list');
  const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
  await seedHourlyUsage(blueVmId, blueId, blueVmName);
  blueHostId = (await admin.query<{ hostId: string | null }>('vms.get', { id: blueVmId })).hostId;
});

test('a tenant admin sees its usage and cost over time, and never another tenant’s VMs', async ({ page }) => {
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.getByRole('link', { name: 'Usage' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();

  const cpu = page.getByTestId('chart-cpu');
  await expect(cpu).toBeVisible();
  await expect(cpu.getByRole('img')).toHaveAttribute('aria-label', /Average CPU \(MHz\), 168 hourly points .* peak /);
  await expect(page.getByTestId('chart-network')).toBeVisible();

  // The cost chart, with the day's bars and the rounding note.
  const cost = page.getByTestId('chart-cost');
  await expect(cost).toBeVisible();
  await expect(cost.getByRole('img')).toHaveAttribute(
    'aria-label',
    /Cost per day by resource \(USD\).*Stacked by vCPU/,
  );
  await expect(page.getByTestId('cost-rounding-note')).toContainText('rounded on its own');
  await expect(page.getByTestId('cost-period-total')).toHaveText(/\$\d+\.\d\d/);

  // Keyboard: the chart takes focus and the arrow keys read out a point.
  await cpu.locator('[tabindex="0"]').focus();
  await page.keyboard.press('End');
  await expect(cpu.locator('[aria-live="polite"]')).toContainText(/UTC/);
  // The data behind the chart, as a table.
  await cpu.getByText('Show the data as a table').click();
  await expect(cpu.getByRole('table')).toBeVisible();
  await shot(page, 'portal-usage');

  // The VM picker lists Blue's VMs only.
  const options = await page.locator('#usage-vm option').allTextContents();
  expect(options).toContain(blueVmName);
  expect(options.some((o) => /yellow/i.test(o))).toBe(false);
  await expect(page.locator('body')).not.toContainText(/yellow/i);

  await page.locator('#usage-vm').selectOption({ label: blueVmName });
  await expect(page.getByTestId('chart-cpu')).toBeVisible();
  await page.getByRole('radio', { name: 'Last 30 days' }).click();
  await expect(page.getByTestId('chart-cpu').getByRole('img')).toHaveAttribute('aria-label', /daily points/);

  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'portal-usage-dark');
});

test('a tenant user sees usage but no cost; a VM that never ran shows none', async ({ page }) => {
  await signIn(page, 'yuri@yellow.example');
  await expect(page).toHaveURL(/\/portal/);
  await page.goto('/portal/usage');
  await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();
  // Yellow has the demo's history; its VM made here never ran. Until its host's first sample
  // (every minute) the period is empty and says so; after it, only its disk shows: no CPU, no
  // running hours. Which of the two depends on when the host sampled, so both are accepted.
  await page.getByLabel('Virtual machines').selectOption({ label: yellowVmName });
  await expect(
    page
      .getByText(/^(No usage recorded in this period|Average CPU \(MHz\), .* CPU: peak 0 MHz, average 0 MHz\.)/)
      .first(),
  ).toBeVisible();
  await expect(page.getByText(/Running: peak [1-9]/)).toHaveCount(0);
  await expect(page.getByTestId('chart-cost')).toHaveCount(0);
  await expect(page.getByText('Cost over time')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText(blueVmName);
});

test('the provider sees a tenant’s usage and cost, a VM’s and a host’s', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin/);
  await page.getByRole('link', { name: 'Usage' }).first().click();
  await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Blue Corp' });
  await expect(page.getByTestId('chart-cpu')).toBeVisible();
  await expect(page.getByTestId('chart-cost')).toBeVisible();
  await shot(page, 'admin-usage-tenant');

  await page.goto(`/admin/vms/${blueVmId}`);
  const card = page.getByTestId('usage-card');
  await card.getByRole('radio', { name: 'Last 7 days' }).click();
  await expect(card.getByTestId('chart-cpu')).toBeVisible();
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'admin-vm-detail');

  if (blueHostId) {
    await page.goto(`/admin/hosts/${blueHostId}`);
    await expect(page.getByTestId('usage-card')).toBeVisible();
    await shot(page, 'admin-host-detail');
  }
});
