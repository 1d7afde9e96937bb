import { expect, test } from '@playwright/test';
import type { ApiClient } from '../../apps/api/src/testing/api-client';
import { apiAs, signIn } from '../fixtures/session';

// A Blue tenant admin makes a network in the portal, attaches a VM to it in
// the create wizard, denies traffic with a port ACL on the VM page and sees
// the trace drop the packet by that ACL once the host's agent applied it;
// then the network cannot be deleted while the VMs are attached, and can
// once they are gone.

const suffix = Date.now().toString(36);
const netName = `e2e-net-${suffix}`;
const dbName = `e2e-db-${suffix}`;
const webName = `e2e-web-${suffix}`;

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

test('a tenant creates a network, attaches VMs, denies with a port ACL and sees the trace drop it', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const alice = await apiAs('alice@blue.example');
  const vmIds: string[] = [];
  try {
    await signIn(page, 'alice@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.goto('/portal/networks');

    // The network and its subnet, from the page.
    await page.getByLabel('VM network name').fill(netName);
    await page.getByRole('button', { name: 'Create VM network' }).click();
    await expect(page.getByRole('heading', { name: netName })).toBeVisible();
    await page.locator('#subnet-net').selectOption({ label: netName });
    await page.locator('#subnet-name').fill('lan');
    await page.locator('#subnet-prefix').fill('10.77.0.0/24');
    await page.getByRole('button', { name: 'Add subnet' }).click();
    await expect(page.getByTestId(`subnet-${netName}-lan`)).toContainText('10.77.0.0/24');

    // A peer VM through the API, and the VM under test through the wizard, attached to the new subnet.
    const web = await alice.mutate<{ vm: { id: string } }>('vms.create', {
      name: webName,
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 10 }],
      nics: [{ name: 'nic0', network: `${netName}/lan` }],
    });
    vmIds.push(web.vm.id);
    await page.goto('/portal/vms/new');
    await page.locator('#vm-name').fill(dbName);
    await page.locator('#vm-vcpus').fill('1');
    await page.getByLabel('Memory (GiB)').fill('1');
    await page.getByLabel('Network', { exact: true }).first().selectOption(`${netName}/lan`);
    await page.getByRole('button', { name: 'Create VM' }).click();
    await expect(page).toHaveURL(/\/portal\/vms\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    vmIds.push(page.url().split('/').at(-1) as string);

    // The VM page shows its port on the new subnet, with an address.
    const card = page.getByTestId('port-policy');
    await expect(card).toContainText(`${netName}/lan`, { timeout: 60_000 });
    await expect(card).toContainText(/address 10\.77\.0\.\d+/);
    let webCa = '';
    await expect
      .poll(
        async () => {
          webCa = (await alice.query<{ ca: string | null }[]>('network.vmPorts', { vmId: web.vm.id }))[0]?.ca ?? '';
          return webCa;
        },
        { timeout: 60_000 },
      )
      .not.toBe('');

    const traceTo = async (expected: RegExp) => {
      await expect(async () => {
        await card.getByLabel('Destination address', { exact: true }).fill(webCa);
        await card.getByLabel('Destination port', { exact: true }).fill('5432');
        await card.getByRole('button', { name: 'Trace' }).click();
        await expect(card.getByTestId('trace-result')).toContainText(expected, { timeout: 3_000 });
        await expect(card.getByTestId('trace-result')).not.toContainText('has not applied', { timeout: 1_000 });
      }).toPass({ timeout: 60_000 });
    };
    await traceTo(new RegExp(`Delivered to ${webName}`));

    // A bad ACL is refused with the rule's message; a good one is saved.
    await card.getByRole('button', { name: 'Add ACL' }).click();
    await card.getByLabel('ACL 1 direction').selectOption('outbound');
    await card.getByLabel('ACL 1 action').selectOption('deny');
    await card.getByLabel('ACL 1 remote').fill('10.77.0.9/24');
    await card.getByRole('button', { name: 'Save port policy' }).click();
    await expect(card).toContainText('host bits zero');
    await card.getByLabel('ACL 1 remote').fill('10.77.0.0/24');
    await card.getByLabel('ACL 1 local port').fill('');
    await card.getByRole('button', { name: 'Save port policy' }).click();
    await expect(card.getByRole('status')).toContainText('Saved');

    // Once the agent applied it, the trace is dropped by that ACL.
    await traceTo(/Dropped/);
    await expect(card.getByTestId('trace-result')).toContainText(`dropped by ${dbName} outbound ACL deny 10.77.0.0/24`);
    await expect(card.getByTestId('trace-result')).not.toContainText('192.168.');

    // The network refuses deletion while VMs are attached, naming them.
    await page.goto('/portal/networks');
    await page.getByRole('button', { name: `Delete VM network ${netName}` }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText('attached');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect(dialog).toContainText('NETWORK_IN_USE');
    await expect(dialog).toContainText(`${dbName}/nic0`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('heading', { name: netName })).toBeVisible();

    // With its VMs gone, the network is deleted from the page.
    for (const id of vmIds.splice(0)) await removeVm(alice, id);
    await page.reload();
    await page.getByRole('button', { name: `Delete VM network ${netName}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByRole('heading', { name: netName })).toHaveCount(0);
  } finally {
    // Gone again, so the specs that count Blue's VMs see the demo as it was.
    for (const id of vmIds) await removeVm(alice, id).catch(() => undefined);
  }
});
