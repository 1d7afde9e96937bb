import { expect, test } from '@playwright/test';
import { apiAs, signIn } from '../fixtures/session';
import { E2E } from '../stack.config';

// A host failure end to end, from the console (issue 11): the admin cuts a host's power from the host
// page's drill (its simulated BMC's ForceOff, after a confirmation that says what HA will do), watches on
// the HA page the event's timeline until its HA VMs run on the other host with their RTO, then powers the
// host back on and it returns. The hosts are the HA drill cluster's (e2e/stack.config.ts), which no other
// spec uses: a demo host's power cut would take other specs' VMs with it.

const [DRILL_A, DRILL_B] = [E2E.drillCluster.hosts[0].hostname, E2E.drillCluster.hosts[1].hostname];
const suffix = Date.now().toString(36);

interface HostRow {
  id: string;
  name: string;
  state: string;
}
interface Vm {
  id: string;
  state: string;
  hostName: string | null;
}

test('the admin cuts a host’s power from the console and its HA VMs run again on the other host, with their RTO', async ({
  page,
}) => {
  test.setTimeout(360_000);
  const admin = await apiAs('admin@fabric.local');
  const bob = await apiAs('bob@blue.example');
  const hostNamed = async (name: string) =>
    (await admin.query<{ rows: HostRow[] }>('hosts.list', { search: name })).rows.find((h) => h.name === name);
  // Both drill hosts up, with their BMC login set (in the background at stack start).
  for (const name of [DRILL_A, DRILL_B]) {
    await expect.poll(async () => (await hostNamed(name))?.state, { timeout: 120_000 }).toBe('connected');
    const host = await hostNamed(name);
    await expect
      .poll(
        async () => (await admin.query<{ powerState: string | null }>('hosts.power', { hostId: host?.id }))?.powerState,
        {
          timeout: 120_000,
        },
      )
      .toBe('On');
  }
  const a = (await hostNamed(DRILL_A)) as HostRow;

  // Two running VMs of Blue Corp, HA priority high and low, moved onto the host to fail.
  const names = [`e2e-drill-hi-${suffix}`, `e2e-drill-lo-${suffix}`];
  const vmIds: string[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const created = await bob.mutate<{ vm: { id: string } }>('vms.create', {
        name,
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 512 },
        disks: [{ sizeGiB: 1 }],
        haPriority: i === 0 ? 'high' : 'low',
        startAfterCreate: true,
      });
      vmIds.push(created.vm.id);
    }
    for (const id of vmIds) {
      await expect
        .poll(async () => (await admin.query<Vm>('vms.get', { id })).state, { timeout: 60_000 })
        .toBe('running');
      await admin.mutate('mobility.migrate', { vmId: id, to: a.id });
    }
    for (const id of vmIds) {
      await expect
        .poll(
          async () => {
            const vm = await admin.query<Vm>('vms.get', { id });
            return `${vm.state} on ${vm.hostName}`;
          },
          { timeout: 120_000 },
        )
        .toBe(`running on ${DRILL_A}`);
    }

    // The drill, from the host page: the confirmation says what will happen before anything does.
    await signIn(page, 'admin@fabric.local');
    await expect(page).toHaveURL(/\/admin$/);
    await page.goto(`/admin/hosts/${a.id}`);
    const card = page.locator('[aria-labelledby="drill-heading"]');
    await expect(card.getByTestId('host-power')).toContainText('Power: on · HA on in HA drill');
    await card.getByRole('button', { name: 'Simulate host failure…' }).click();
    const dialog = page.getByRole('dialog', { name: `Simulate a failure of ${DRILL_A}?` });
    await expect(dialog).toContainText(`${DRILL_A} stops at once, with every VM on it`);
    await expect(dialog).toContainText(
      `HA is on in HA drill: after ${E2E.drillCluster.ha.detectionTimeoutMs / 1000} s without a heartbeat it counts as failed`,
    );
    await expect(dialog).toContainText('once its BMC reads it powered off');
    await page.screenshot({ path: 'test-results/ha-drill-confirm.png', fullPage: true });
    await dialog.getByRole('button', { name: 'Cut the power' }).click();
    await expect(dialog).toBeHidden();
    await expect(card.getByTestId('host-power')).toContainText('Power: off');
    await expect(card.getByRole('status')).toContainText('Power cut at');

    // The HA page: the event's timeline until both VMs run again elsewhere, each with its RTO.
    await card.getByRole('link', { name: 'Follow it on the HA page' }).click();
    await expect(page).toHaveURL(/\/admin\/ha$/);
    const event = page
      .getByTestId('ha-event')
      .filter({ hasText: `${DRILL_A} —` })
      .first();
    await expect(event).toBeVisible({ timeout: 60_000 });
    await expect(event.getByRole('heading')).toContainText(`${DRILL_A} — recovered`, { timeout: 180_000 });
    const timeline = event.getByTestId('ha-timeline');
    await expect(timeline).toContainText(`${DRILL_A}'s BMC reports it powered off`);
    for (const name of names) {
      await expect(timeline).toContainText(new RegExp(`${name} \\((high|low)\\) → ${DRILL_B}`));
      await expect(timeline).toContainText(new RegExp(`${name} running again \\(RTO \\d+\\.\\d s\\)`));
      const row = event.getByRole('row').filter({ hasText: name });
      await expect(row).toContainText('running');
      await expect(row.getByTestId('ha-rto')).toHaveText(/^\d+\.\d s$/);
    }
    await page.screenshot({ path: 'test-results/ha-drill-recovered.png', fullPage: true });
    for (const id of vmIds) {
      const vm = await admin.query<Vm>('vms.get', { id });
      expect(`${vm.state} on ${vm.hostName}`).toBe(`running on ${DRILL_B}`);
    }

    // Power back: the host boots, returns, and keeps none of the VMs that restarted elsewhere.
    await page.goto(`/admin/hosts/${a.id}`);
    await card.getByRole('button', { name: 'Power on' }).click();
    await expect(card.getByTestId('host-power')).toContainText('Power: on');
    await expect.poll(async () => (await hostNamed(DRILL_A))?.state, { timeout: 120_000 }).toBe('connected');
    for (const id of vmIds) {
      const vm = await admin.query<Vm>('vms.get', { id });
      expect(`${vm.state} on ${vm.hostName}`).toBe(`running on ${DRILL_B}`);
    }
  } finally {
    // Whatever happened, the host powered on again and the VMs gone: the drill can run again.
    const power = await admin.query<{ powerState: string | null } | null>('hosts.power', { hostId: a.id });
    if (power?.powerState === 'Off') await admin.call('hosts.powerOn', 'mutation', { hostId: a.id });
    for (const id of vmIds) {
      await bob.call('vms.act', 'mutation', { id, action: 'turn-off' });
      await expect
        .poll(async () => (await bob.query<Vm>('vms.get', { id })).state, { timeout: 60_000 })
        .toBe('off')
        .catch(() => undefined);
      await bob.call('vms.act', 'mutation', { id, action: 'delete' });
    }
  }
});
