import { expect, test } from '@playwright/test';
import { sql } from '../fixtures/database';
import { apiAs, expectNoText, signIn } from '../fixtures/session';

// The VM page says when a VM is coming back after its host failed (issue 11): "Waiting for capacity after
// <host> failed: <reason>" with a link to the HA event, then "Restarting on <host>". The portal says the
// same without host names or placement's numbers. The failure is written to the database as the recovery
// writes it (an event whose VM waits, then restarts): killing a demo host would take the demo's VMs with it.

const suffix = Date.now().toString(36);
const gone = `e2e-gone-${suffix}`;

test('the VM page says it waits for capacity after its host failed, then that it restarts', async ({ browser }) => {
  // Three signed-in browsers (admin VM page, admin list, portal) on a busy machine: more than the default minute.
  test.setTimeout(180_000);
  const bob = await apiAs('bob@blue.example');
  const admin = await apiAs('admin@fabric.local');
  const name = `e2e-harec-${suffix}`;
  const vmId = (
    await bob.mutate<{ vm: { id: string } }>('vms.create', {
      name,
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 512 },
      disks: [{ sizeGiB: 1 }],
      haPriority: 'high',
      startAfterCreate: false,
    })
  ).vm.id;
  let eventId = '';
  try {
    await expect
      .poll(async () => (await bob.query<{ state: string }>('vms.get', { id: vmId })).state, { timeout: 60_000 })
      .toBe('off');
    const [vm] = await sql<{ cluster_id: string; host_id: string; tenant_id: string; owner_epoch: number }>(
      'SELECT cluster_id, host_id, tenant_id, owner_epoch FROM vms WHERE id = $1',
      [vmId],
    );
    if (!vm) throw new Error('no VM row');
    const hostName = (await admin.query<{ hostName: string }>('vms.get', { id: vmId })).hostName;
    const [event] = await sql<{ id: string }>(
      `INSERT INTO ha_events (id, cluster_id, host_id, host_name, state, diagnosis, fence_method, last_heartbeat_at,
                              detected_at, fenced_at)
       VALUES (gen_random_uuid(), $1, gen_random_uuid(), $2, 'fencing', 'dead', 'lease',
               now() - interval '40 seconds', now() - interval '20 seconds', NULL)
       RETURNING id`,
      [vm.cluster_id, gone],
    );
    eventId = event?.id ?? '';
    await sql(
      `INSERT INTO ha_restarts (id, event_id, vm_id, tenant_id, vm_name, priority, from_host_id, state, reason,
                                from_epoch, last_heartbeat_at, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'high', gen_random_uuid(), 'pending', '', $5, now(), now())`,
      [eventId, vmId, vm.tenant_id, name, vm.owner_epoch],
    );

    // The provider: first the failed host is fenced (nothing restarts before)...
    const adminPage = await (await browser.newContext()).newPage();
    await signIn(adminPage, 'admin@fabric.local');
    await expect(adminPage).toHaveURL(/\/admin/);
    await adminPage.goto(`/admin/vms/${vmId}`);
    const banner = adminPage.getByTestId('vm-ha-recovery');
    await expect(banner).toContainText(`${gone} failed: it restarts elsewhere once that host is fenced`);
    // Its state badge says so too, not the state it had on the failed host.
    const badge = adminPage.getByTestId('vm-state').first();
    await expect(badge).toHaveText('host failed');
    // ...then it waits: the failed host, placement's reason, and a link to the event on the HA page.
    await sql(`UPDATE ha_events SET state = 'waiting-capacity', fenced_at = now() WHERE id = $1`, [eventId]);
    await sql(
      `UPDATE ha_restarts SET state = 'waiting-capacity',
              reason = 'No host fits: memory 48 GiB needed, 12 GiB free on the best host' WHERE event_id = $1`,
      [eventId],
    );
    await expect(banner).toContainText(
      `Waiting for capacity after ${gone} failed: No host fits: memory 48 GiB needed, 12 GiB free on the best host`,
    );
    await expect(banner.getByRole('link', { name: 'HA event' })).toHaveAttribute(
      'href',
      `/admin/ha#ha-event-${eventId}`,
    );
    await expect(badge).toHaveText('waiting for capacity');
    // So does the VM list.
    const listPage = await (await browser.newContext()).newPage();
    await signIn(listPage, 'admin@fabric.local');
    await expect(listPage).toHaveURL(/\/admin/);
    await listPage.goto(`/admin/vms?q=${encodeURIComponent(name)}`);
    await expect(listPage.getByRole('row').filter({ hasText: name }).getByTestId('vm-state')).toHaveText(
      'waiting for capacity',
    );

    // The tenant: the same news, no host name, no numbers of the fabric.
    const bobPage = await (await browser.newContext()).newPage();
    await signIn(bobPage, 'bob@blue.example');
    await expect(bobPage).toHaveURL(/\/portal/);
    await bobPage.goto(`/portal/vms/${vmId}`);
    const portalBanner = bobPage.getByTestId('vm-ha-recovery');
    await expect(portalBanner).toContainText('Waiting for capacity after its host failed: no host has room for it yet');
    await expectNoText(bobPage, new RegExp(`${gone}|48 GiB`));
    await expect(portalBanner.getByRole('link')).toHaveCount(0);
    await expect(bobPage.getByTestId('vm-state').first()).toHaveText('waiting for capacity');

    // Room found: it restarts on a host (the recovery's row says which).
    await sql(`UPDATE ha_restarts SET state = 'restarting', to_host_id = $2, reason = $3 WHERE event_id = $1`, [
      eventId,
      vm.host_id,
      `Restarting on ${hostName}`,
    ]);
    await expect(banner).toContainText(`Restarting on ${hostName}`);
    await expect(badge).toHaveText('restarting');
    await expect(portalBanner).toContainText('Restarting on another host');
    await expectNoText(bobPage, new RegExp(`${gone}|${hostName}`));

    // Running again: the row is over, the banner goes.
    await sql(`UPDATE ha_restarts SET state = 'running' WHERE event_id = $1`, [eventId]);
    await expect(banner).toHaveCount(0, { timeout: 15_000 });
    await expect(badge).toHaveText('off');
  } finally {
    if (eventId) await sql('DELETE FROM ha_events WHERE id = $1', [eventId]);
    await bob.mutate('vms.act', { id: vmId, action: 'delete' });
  }
});
