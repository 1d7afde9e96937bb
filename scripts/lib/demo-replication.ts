// The demo's replicated VM (issue 10): once the demo agents have registered,
// Blue Corp's "dr-web-01" runs in one cluster and replicates every 30 s to the
// other (the provider authorizes each cluster for the other, into its hosts'
// first storage pool). Through the API, as the console would: the enable is a
// durable workflow the API runs. Idempotent: nothing happens when Blue
// already replicates a VM.

import { ApiClient } from '../../apps/api/src/testing/api-client';
import { DEMO_USERS } from '../../prisma/seed';

interface HostRow {
  id: string;
  name: string;
  state: string;
  clusterId?: string;
  clusterName?: string;
}

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}

export async function seedDemoReplication(apiUrl: string, origin: string, log: (line: string) => void): Promise<void> {
  const user = (email: string) => DEMO_USERS.find((u) => u.email === email);
  const adminUser = DEMO_USERS.find((u) => u.role === 'provider-admin');
  const blueUser = DEMO_USERS.find((u) => u.role === 'tenant-admin' && u.tenant === 'Blue Corp');
  if (!adminUser || !blueUser || !user(adminUser.email)) return;
  const admin = await ApiClient.signIn(apiUrl, adminUser.email, adminUser.password, origin);
  const blue = await ApiClient.signIn(apiUrl, blueUser.email, blueUser.password, origin);
  if ((await blue.query<unknown[]>('replication.list')).length > 0) return;
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  if (clusters.length < 2) return;
  // A connected host in each cluster, with its pools.
  const hostsByCluster = await until(async () => {
    const out = new Map<string, { id: string; pool: string }>();
    for (const cluster of clusters) {
      const list = await admin.query<{ rows: HostRow[] }>('hosts.list', { clusterId: cluster.id });
      const host = list.rows.find((h) => h.state === 'connected');
      if (!host) return null;
      const detail = await admin.query<{ storagePools: { name: string }[] }>('hosts.get', { id: host.id });
      out.set(cluster.id, { id: host.id, pool: detail.storagePools[0]?.name ?? 'default' });
    }
    return out;
  }, 120_000);
  if (!hostsByCluster) {
    log('demo replication: no connected host in every cluster after 2 minutes; skipped');
    return;
  }
  const existing = await admin.query<unknown[]>('replication.authorizations.list');
  if (existing.length === 0) {
    for (const cluster of clusters) {
      const pool = hostsByCluster.get(cluster.id)?.pool ?? 'default';
      await admin.mutate('replication.authorizations.create', { replicaClusterId: cluster.id, storagePool: pool });
    }
  }
  // Reuse dr-web-01 when an earlier start created it but did not get to enable replication.
  const found = await blue.query<{ rows: { id: string; name: string }[] }>('vms.list', { search: 'dr-web-01' });
  const vmId =
    found.rows.find((v) => v.name === 'dr-web-01')?.id ??
    (
      await blue.mutate<{ vm: { id: string } }>('vms.create', {
        name: 'dr-web-01',
        vcpus: 1,
        memory: { mode: 'static', sizeMiB: 1024 },
        disks: [{ sizeGiB: 1 }],
        startAfterCreate: true,
      })
    ).vm.id;
  // vms.get names the VM's cluster (clusterName), not its id.
  const vm = await until(async () => {
    const v = await admin.query<{ state: string; clusterName?: string | null }>('vms.get', { id: vmId });
    return v.state === 'running' && v.clusterName ? v : null;
  }, 120_000);
  const other = clusters.find((cl) => cl.name !== vm?.clusterName);
  if (!vm || !other) {
    log('demo replication: dr-web-01 did not start; replication not enabled');
    return;
  }
  await blue.mutate('replication.enable', {
    vmId,
    target: { kind: 'cluster', clusterId: other.id },
    frequencySeconds: 30,
    additionalPoints: 4,
    // Its first point, then one an hour, with the guest quiesced: the console shows both kinds of point.
    appConsistentHours: 1,
  });
  log(`demo replication: dr-web-01 replicates to ${other.name} every 30 s (application-consistent every hour)`);
}
