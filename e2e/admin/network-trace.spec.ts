import { expect, test } from '@playwright/test';
import type { ApiClient } from '../../apps/api/src/testing/api-client';
import { apiAs, signIn } from '../fixtures/session';

// The admin traces a blocked packet on the Networks page: each host's agent
// answers through the policy it applied, the page says which host answered at
// which policy version, and the hop that dropped the packet names the rule.

const suffix = Date.now().toString(36);
// Early in the alphabet: the trace form lists the first 100 VMs by name.
const webName = `aa-trace-web-${suffix}`;
const dbName = `aa-trace-db-${suffix}`;

async function removeVm(alice: ApiClient, id: string) {
  await expect
    .poll(
      async () => {
        const { state } = await alice.query<{ state: string }>('vms.get', { id });
        if (state === 'running' || state === 'paused')
          await alice.call('vms.act', 'mutation', { id, action: 'turn-off' });
        return state;
      },
      { timeout: 90_000, intervals: [1_000] },
    )
    .toBe('off');
  await alice.mutate('vms.act', { id, action: 'delete' });
}

test("the admin traces a blocked packet and sees each host's agent verdict and version", async ({ page }) => {
  test.setTimeout(240_000);
  const alice = await apiAs('alice@blue.example');
  const ids: string[] = [];
  try {
    for (const name of [webName, dbName]) {
      const { vm } = await alice.mutate<{ vm: { id: string } }>('vms.create', {
        name,
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 512 },
        disks: [{ sizeGiB: 10 }],
        nics: [{ name: 'nic0', network: 'intranet/lan' }],
      });
      ids.push(vm.id);
    }
    const dbId = ids[1] ?? '';
    let dbCa = '';
    await expect
      .poll(
        async () => {
          dbCa = (await alice.query<{ ca: string | null }[]>('network.vmPorts', { vmId: dbId }))[0]?.ca ?? '';
          return dbCa;
        },
        { timeout: 60_000 },
      )
      .not.toBe('');
    await alice.mutate('network.setPortPolicy', {
      vmId: dbId,
      nicName: 'nic0',
      policy: { acls: [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.1.1.0/24' }, localPort: 5432 }] },
    });

    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin/);
    await page.goto('/admin/networks');
    await page.getByLabel('From VM').selectOption({ label: `${webName} (Blue Corp)` });
    await page.getByLabel('To address (CA)').fill(dbCa);
    await page.getByLabel('TCP port').fill('5432');
    const hosts = page.getByTestId('trace-hosts');
    await expect(async () => {
      await page.getByRole('button', { name: 'Trace', exact: true }).click();
      await expect(hosts).toContainText("traced by its agent's switch", { timeout: 5_000 });
      await expect(hosts).not.toContainText(/agent lags|no answer/, { timeout: 1_000 });
      await expect(page.getByTestId('trace-hops')).toContainText(
        `dropped by ${dbName} inbound ACL deny 10.1.1.0/24 port 5432`,
        {
          timeout: 1_000,
        },
      );
    }).toPass({ timeout: 90_000 });
    await expect(hosts).toContainText(/policy v\d+ \(the compiled one\)/);
    await expect(page.getByTestId('trace-hops')).toContainText('Dropped');
    await page.screenshot({ path: 'test-results/admin-network-trace.png', fullPage: true });
  } finally {
    for (const id of ids) await removeVm(alice, id).catch(() => undefined);
  }
});
