import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// A tenant admin sets a VM adapter's PVLAN, then trunk mode instead, on the
// Port policy card (one VLAN mode per port, as in Hyper-V: the other control
// is disabled and says why) and sees each saved, the cleared PVLAN gone; a
// wrong native VLAN is refused with the rule; the ACL editor stops at the
// API's 32 ACLs and says so.

const vmName = `e2e-pvlan-${Date.now().toString(36)}`;

test('the port policy card sets PVLAN or trunk mode, one at a time, and stops adding ACLs at the limit', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const alice = await apiAs('alice@blue.example');
  const { vm } = await alice.mutate<{ vm: { id: string } }>('vms.create', {
    name: vmName,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 10 }],
    nics: [{ name: 'nic0', network: 'intranet/lan' }],
    startAfterCreate: false,
  });
  try {
    await signIn(page, 'alice@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.goto(`/portal/vms/${vm.id}`);
    const card = page.getByTestId('port-policy');
    await expect(card).toContainText('intranet/lan', { timeout: 60_000 });

    // PVLAN isolated on primary 100 / secondary 101: the port is then no trunk (one VLAN mode per port).
    await card.getByLabel('PVLAN mode').selectOption('isolated');
    await card.getByLabel('Primary VLAN').fill('100');
    await card.getByLabel('Secondary VLAN').fill('101');
    await expect(card.getByLabel('Trunk port')).toBeDisabled();
    await expect(card).toContainText('A private VLAN port is no trunk: a port is in one VLAN mode.');
    await card.getByRole('button', { name: 'Save port policy' }).click();
    await expect(card.getByRole('status')).toContainText('Saved');
    const policy = async () =>
      (await alice.query<{ policy: { pvlan?: unknown; trunk?: unknown } }[]>('network.vmPorts', { vmId: vm.id }))[0]
        ?.policy;
    await expect
      .poll(async () => (await policy())?.pvlan)
      .toEqual({
        mode: 'isolated',
        primaryVlan: 100,
        secondaryVlan: 101,
      });

    // Then a trunk instead: PVLAN none, trunk with VLANs 10 and 20, native 30 (refused by its rule), then 10.
    await card.getByLabel('PVLAN mode').selectOption('none');
    // No PVLAN shows no PVLAN VLANs: the old 100 / 101 are cleared, not left as if they still applied.
    await expect(card.getByLabel('Primary VLAN')).toHaveValue('');
    await expect(card.getByLabel('Secondary VLAN')).toHaveValue('');
    await card.getByLabel('Trunk port').check();
    await expect(card.getByLabel('PVLAN mode')).toBeDisabled();
    await card.getByLabel('Allowed VLANs').fill('10, 20');
    await card.getByLabel('Native VLAN').fill('30');
    await card.getByRole('button', { name: 'Save port policy' }).click();
    await expect(card).toContainText('Trunk native VLAN 30 is not among the allowed VLANs');
    await card.getByLabel('Native VLAN').fill('10');
    await card.getByRole('button', { name: 'Save port policy' }).click();
    await expect(card.getByRole('status')).toContainText('Saved');
    // The PVLAN the form cleared is gone (sent as null: the API keeps what a change leaves out).
    await expect.poll(async () => (await policy())?.trunk).toEqual({ allowedVlans: [10, 20], nativeVlan: 10 });
    expect((await policy())?.pvlan).toBeUndefined();

    // After a reload the card shows what was saved.
    await page.reload();
    await expect(card.getByLabel('Allowed VLANs')).toHaveValue('10, 20', { timeout: 30_000 });
    await expect(card.getByLabel('Trunk port')).toBeChecked();
    await expect(card.getByLabel('PVLAN mode')).toHaveValue('none');
    await expect(card.getByLabel('PVLAN mode')).toBeDisabled();

    // ACLs: the 32nd is the last one the editor adds, and it says why.
    const add = card.getByRole('button', { name: 'Add ACL' });
    for (let i = 0; i < 32; i++) await add.click();
    await expect(add).toBeDisabled();
    await expect(card).toContainText('A port has at most 32 ACLs');
    // A limit reached is a hint, not an error: not in the danger colour.
    await expect(card.getByText('A port has at most 32 ACLs')).not.toHaveClass(/text-danger/);
    await expect(card.getByLabel('ACL 32 direction')).toBeVisible();
    await expect(card.getByLabel('ACL 33 direction')).toHaveCount(0);
    await card.getByLabel('Remove ACL 32').click();
    await expect(add).toBeEnabled();
    await page.screenshot({ path: 'test-results/port-policy-editor.png', fullPage: true });
  } finally {
    await alice.mutate('vms.act', { id: vm.id, action: 'delete' }).catch(() => undefined);
  }
});
