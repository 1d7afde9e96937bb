import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';

// Leaving maintenance brings the VMs back (issue 12), as an admin meets it: a
// host with two of the test's VMs (one running, one off) is evacuated; its
// Exit maintenance dialog says "Bring back 2 VMs moved off by its maintenance",
// lists them with how each comes back, and with the box ticked starts one task,
// linked and followed to its end; the VMs are back, the running one running,
// the off one off. The VMs are the test's own and are deleted at the end.

const suffix = Date.now().toString(36);
const names = { web: `e2e-bb-web-${suffix}`, off: `e2e-bb-off-${suffix}` };

test('Exit maintenance previews and brings back the VMs its evacuation moved off', async ({ page }) => {
  test.setTimeout(300_000);
  const alice = await apiAs('alice@blue.example');
  const admin = await apiAs('admin@fabric.local');
  const create = async (name: string, start: boolean) =>
    (
      await alice.mutate<{ vm: { id: string } }>('vms.create', {
        name,
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 512 },
        disks: [{ sizeGiB: 10, pool: 'ClusterStorage-Volume1' }], // a pool every Production host reaches
        startAfterCreate: start,
      })
    ).vm.id;
  const ids = { web: await create(names.web, true), off: await create(names.off, false) };
  const state = async (id: string) => (await alice.query<{ state: string }>('vms.get', { id })).state;
  const hostOf = async (id: string) => await admin.query<{ hostId: string; hostName: string }>('vms.get', { id });
  let hostId: string | null = null;
  try {
    await expect.poll(() => state(ids.web), { timeout: 60_000 }).toBe('running');
    await expect.poll(() => state(ids.off), { timeout: 60_000 }).toBe('off');
    // Both on one host: the off one joins the running one's.
    const home = await hostOf(ids.web);
    hostId = home.hostId;
    if ((await hostOf(ids.off)).hostId !== home.hostId) {
      const { taskId } = await admin.mutate<{ taskId: string }>('mobility.migrate', { vmId: ids.off, to: home.hostId });
      await expect
        .poll(async () => (await admin.query<{ state: string }>('tasks.get', { id: taskId })).state, {
          timeout: 90_000,
        })
        .toBe('succeeded');
    }
    const evacuated = await admin.mutate<{ taskIds: string[] }>('mobility.evacuate', { hostId: home.hostId });
    for (const taskId of evacuated.taskIds) {
      await expect
        .poll(async () => (await admin.query<{ state: string }>('tasks.get', { id: taskId })).state, {
          timeout: 120_000,
        })
        .toBe('succeeded');
    }
    expect((await hostOf(ids.web)).hostId).not.toBe(home.hostId);

    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto(`/admin/hosts/${home.hostId}`);
    await page.getByRole('button', { name: 'Exit maintenance' }).click();
    const preview = page.getByTestId('bring-back-preview');
    const choice = preview.getByRole('checkbox', { name: /^Bring back \d+ VMs? moved off by its maintenance/ });
    await expect(choice).toBeChecked();
    await expect(preview.getByText(names.web)).toBeVisible();
    await expect(preview.getByRole('listitem').filter({ hasText: names.web })).toContainText('running: live migration');
    await expect(preview.getByRole('listitem').filter({ hasText: names.off })).toContainText('off: cold move');
    await page.screenshot({ path: 'test-results/maintenance-bring-back-preview.png', fullPage: true });

    // Unticked, the button says it moves nothing; ticked again, it brings them back.
    await choice.uncheck();
    await expect(preview.getByText('Nothing moves: the VMs stay where they are.')).toBeVisible();
    await choice.check();
    await page.getByRole('button', { name: /^Exit maintenance and bring back \d+$/ }).click();
    const started = page.getByTestId('bring-back-task');
    await expect(started.getByRole('link', { name: 'Follow it in Tasks' })).toHaveAttribute(
      'href',
      /^\/admin\/tasks\/[0-9a-f-]{36}$/,
    );
    await expect(started.getByTestId('task-state')).toHaveText(/succeeded/i, { timeout: 180_000 });
    await page.screenshot({ path: 'test-results/maintenance-bring-back-done.png', fullPage: true });
    expect((await hostOf(ids.web)).hostId).toBe(home.hostId);
    expect((await hostOf(ids.off)).hostId).toBe(home.hostId);
    expect(await state(ids.web)).toBe('running');
    expect(await state(ids.off)).toBe('off');
    // When the task ended the page read the host again: the VMs are on its list.
    await expect(page.getByText(names.web)).toBeVisible();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('button', { name: 'Enter maintenance' })).toBeVisible();
  } finally {
    await alice.mutate('vms.act', { id: ids.web, action: 'turn-off' }).catch(() => undefined);
    await expect
      .poll(() => state(ids.web), { timeout: 60_000 })
      .toBe('off')
      .catch(() => undefined);
    for (const id of [ids.web, ids.off]) await alice.mutate('vms.act', { id, action: 'delete' }).catch(() => undefined);
    if (hostId) await admin.mutate('hosts.setMaintenance', { id: hostId, enabled: false }).catch(() => undefined);
  }
});
