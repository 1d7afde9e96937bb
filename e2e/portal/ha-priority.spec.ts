import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// A tenant user changes a VM's HA priority on its page (issue 11): the choice is saved (the API says so
// and a reload shows it). The VM is the spec's own, deleted afterwards.

test('a Blue user sets a VM’s HA priority on the VM page', async ({ page }) => {
  const bob = await apiAs('bob@blue.example');
  const name = `e2e-ha-${Date.now().toString(36)}`;
  const created = await bob.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: 1,
    memory: { mode: 'static', sizeMiB: 512 },
    disks: [{ sizeGiB: 1 }],
    haPriority: 'medium',
    startAfterCreate: false,
  });
  const vm = { id: created.vm.id, name };
  const before = 'medium';
  const next = 'low';
  try {
    await signIn(page, 'bob@blue.example');
    await expect(page).toHaveURL(/\/portal/);
    await page.goto(`/portal/vms/${vm.id}`);
    const control = page.getByLabel(`HA priority of ${vm.name}`);
    await expect(control).toHaveValue(before);
    await control.selectOption(next);
    await expect
      .poll(async () => (await bob.query<{ haPriority: string }>('vms.get', { id: vm.id })).haPriority)
      .toBe(next);
    await page.reload();
    await expect(page.getByLabel(`HA priority of ${vm.name}`)).toHaveValue(next);
  } finally {
    // Gone again, so the specs that count Blue's VMs see the demo as it was.
    await expect
      .poll(async () => (await bob.query<{ state: string }>('vms.get', { id: vm.id })).state, { timeout: 60_000 })
      .toBe('off');
    await bob.mutate('vms.act', { id: vm.id, action: 'delete' });
  }
});
