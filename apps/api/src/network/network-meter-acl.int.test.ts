import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, eventually, spawnAgent } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi, withSql } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A metering port ACL's bytes show up in Measure-VM (issue 13), with a real
// agent: a tenant meters its VM's own subnet under the provider's class
// "backup" and a prefix the VM never talks to under "offsite". Once the host
// applied the policy, its switch counts every datacenter byte of the VM under
// backup and none under offsite, in each sample, and Measure-VM lists both.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  api = await startTestApi({ env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000' } });
  c = await seedAndSignIn(api);
}, 120_000);
afterAll(async () => {
  await agent?.kill('SIGTERM');
  await api?.close();
});

describe('metering port ACLs with a real agent', () => {
  it('count the bytes they match per metered class, in the samples and in Measure-VM', async () => {
    for (const [name, cidr] of [
      ['backup', '10.200.0.0/16'],
      ['offsite', '10.201.0.0/16'],
    ] as const)
      await c.admin.mutate('metering.defineAddressClass', { name, remoteAddresses: [cidr] });
    const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
    const ln = await c.admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'provider-net' });
    for (const [n, cl] of clusters.entries())
      await c.admin.mutate('network.addPaPool', {
        logicalNetworkId: ln.id,
        clusterId: cl.id,
        prefix: `192.168.${n + 1}.0/24`,
        vlanId: 101 + n,
      });
    const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
      clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
    });
    agent = spawnAgent({
      api: api.url,
      hostname: 'meter-01',
      token,
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-meter-')),
      extraArgs: ['--sim-speed', '20', '--sample-seconds', '1'],
    });
    await eventually(
      async () => {
        const hosts = await c.admin.query<{ rows: { state: string }[] }>('hosts.list', { search: 'meter-01' });
        return hosts.rows.some((h) => h.state === 'connected');
      },
      30_000,
      'the host to register',
    );

    const blue = c.blueAdmin;
    const net = await blue.mutate<{ id: string }>('network.createVmNetwork', { name: 'apps' });
    await blue.mutate('network.createSubnet', { vmNetworkId: net.id, name: 'lan', prefix: '10.2.0.0/24' });
    const vmId = (
      await blue.mutate<{ vm: { id: string } }>('vms.create', {
        name: 'meter-web',
        vcpus: 2,
        memory: { mode: 'static', sizeMiB: 2048 },
        disks: [{ sizeGiB: 20 }],
        nics: [{ name: 'nic0', network: 'apps/lan' }],
      })
    ).vm.id;
    await eventually(
      async () => (await blue.query<{ ca: string | null }[]>('network.vmPorts', { vmId }))[0]?.ca ?? null,
      30_000,
      'a customer address',
    );
    await blue.mutate('network.setPortPolicy', {
      vmId,
      nicName: 'nic0',
      policy: {
        acls: [
          { direction: 'both', action: 'meter', remote: { prefix: '10.2.0.0/24' }, meterClass: 'backup' },
          { direction: 'both', action: 'meter', remote: { prefix: '172.16.0.0/12' }, meterClass: 'offsite' },
        ],
      },
    });

    // Samples after the host applied the ACLs: backup is exactly the VM's datacenter traffic, offsite nothing.
    const rows = await eventually(
      () =>
        withSql(api.databaseUrl, async (sql) => {
          const r = await sql.query<{
            at: Date;
            dc_in: string;
            dc_out: string;
            backup_in: string;
            backup_out: string;
            offsite: string;
          }>(
            `SELECT s.at, s.net_in_datacenter_bytes AS dc_in, s.net_out_datacenter_bytes AS dc_out,
               b.in_bytes AS backup_in, b.out_bytes AS backup_out, o.in_bytes + o.out_bytes AS offsite
             FROM vm_samples s
             JOIN vm_acl_samples b ON b.vm_id = s.vm_id AND b.at = s.at AND b.acl = 'backup'
             JOIN vm_acl_samples o ON o.vm_id = s.vm_id AND o.at = s.at AND o.acl = 'offsite'
             WHERE s.vm_id = $1 ORDER BY s.at DESC LIMIT 3`,
            [vmId],
          );
          const counted = r.rows.filter(
            (row) =>
              Number(row.dc_in) + Number(row.dc_out) > 0 &&
              row.backup_in === row.dc_in &&
              row.backup_out === row.dc_out &&
              Number(row.offsite) === 0,
          );
          return counted.length === 3 ? r.rows : null;
        }),
      60_000,
      'three samples whose backup bytes are the VM’s datacenter bytes and offsite none',
    );
    expect(rows).toHaveLength(3);

    // Measure-VM lists both classes, backup with the bytes the switch counted.
    const m = await blue.query<{ networkAcls: { acl: string; inboundBytes: number; outboundBytes: number }[] }>(
      'metering.measureVm',
      { id: vmId },
    );
    expect(m.networkAcls.map((a) => a.acl)).toEqual(['backup', 'offsite']);
    const backup = m.networkAcls.find((a) => a.acl === 'backup');
    expect((backup?.inboundBytes ?? 0) + (backup?.outboundBytes ?? 0)).toBeGreaterThan(0);
  }, 150_000);
});
