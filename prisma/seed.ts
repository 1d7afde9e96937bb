// The demo: a provider admin and a finance user; the whitepaper's Blue Corp and
// Yellow Corp, each with an admin and a user; two clusters. Hosts are not
// seeded: the demo's agents register them, as real hosts would.
// Billing history: the demo provider has priced since the first day of last
// month, and five VMs (since retired) ran from then until the demo was first
// started, so the usage charts, bills and invoices have something to show and
// finance can close last month at once.
// Idempotent: a database that already has the admin is left as it is.
import { SYSTEM_ACTOR } from '@fabric/core/shared/tenant-scope';
import type { Services } from '../apps/api/src/composition';

export const DEMO_USERS = [
  { name: 'Dana Admin', email: 'admin@fabric.local', password: 'fabric-admin-1', role: 'provider-admin', tenant: null },
  { name: 'Fin Ance', email: 'finance@fabric.local', password: 'fabric-finance-1', role: 'finance', tenant: null },
  {
    name: 'Alice Blue',
    email: 'alice@blue.example',
    password: 'blue-admin-1',
    role: 'tenant-admin',
    tenant: 'Blue Corp',
  },
  { name: 'Bob Blue', email: 'bob@blue.example', password: 'blue-user-1', role: 'tenant-user', tenant: 'Blue Corp' },
  {
    name: 'Yara Yellow',
    email: 'yara@yellow.example',
    password: 'yellow-admin-1',
    role: 'tenant-admin',
    tenant: 'Yellow Corp',
  },
  {
    name: 'Yuri Yellow',
    email: 'yuri@yellow.example',
    password: 'yellow-user-1',
    role: 'tenant-user',
    tenant: 'Yellow Corp',
  },
] as const;

export const DEMO_CLUSTERS = [
  { name: 'Production', description: 'Seattle DC, row 4: general-purpose tenant workloads' },
  { name: 'Development', description: 'Lab hosts for staging and test' },
] as const;

/** The demo's hosts: each runs a real agent process with the simulated driver. */
export const DEMO_HOSTS = [
  { hostname: 'hv-prod-01', cluster: 'Production', profile: 'standard-2x16-512g' },
  { hostname: 'hv-prod-02', cluster: 'Production', profile: 'standard-2x16-512g' },
  { hostname: 'hv-prod-03', cluster: 'Production', profile: 'standard-2x16-512g' },
  { hostname: 'hv-prod-04', cluster: 'Production', profile: 'standard-2x16-512g' },
  { hostname: 'hv-prod-05', cluster: 'Production', profile: 'large-320lp-4t' },
  { hostname: 'hv-dev-01', cluster: 'Development', profile: 'small-1x8-64g' },
  { hostname: 'hv-dev-02', cluster: 'Development', profile: 'small-1x8-64g' },
  { hostname: 'hv-dev-03', cluster: 'Development', profile: 'standard-2x16-512g' },
] as const;

export async function seedDemo(
  services: Services,
  options: {
    billingHistory?: boolean;
    /** Since when the demo tenants exist (default: the billing history's first day, last month's first). */
    tenantsSince?: Date;
  } = {},
): Promise<boolean> {
  const { tenancy, fabric, uow } = services;
  if (await uow.repos.tenancy.findUserByEmail(DEMO_USERS[0].email)) return false;
  const provider = { kind: 'provider' } as const;
  const tenantIds = new Map<string, string>();
  for (const name of ['Blue Corp', 'Yellow Corp']) {
    const existing = (await tenancy.listTenants(provider)).find((t) => t.name === name);
    tenantIds.set(name, existing?.id ?? (await tenancy.createTenant(SYSTEM_ACTOR, { name })).id);
  }
  // The demo tenants are customers since before their billing history: no bill exists for a period that
  // ended before its tenant was created, and the history's month is there to be billed and closed.
  const now = services.clock.now();
  const since = options.tenantsSince ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  await services.pool.query('UPDATE tenants SET created_at = $1 WHERE id = ANY($2::uuid[]) AND created_at > $1', [
    since,
    [...tenantIds.values()],
  ]);
  for (const user of DEMO_USERS) {
    if (await uow.repos.tenancy.findUserByEmail(user.email)) continue;
    await tenancy.createUser(SYSTEM_ACTOR, provider, {
      name: user.name,
      email: user.email,
      password: user.password,
      role: user.role,
      tenantId: user.tenant ? tenantIds.get(user.tenant) : undefined,
    });
  }
  for (const cluster of DEMO_CLUSTERS) {
    if (await uow.repos.fabric.findClusterByName(cluster.name)) continue;
    await fabric.createCluster(SYSTEM_ACTOR, { ...cluster, maxHosts: 64, maxVms: 4000 });
  }
  await seedNetworks(services, tenantIds);
  if (options.billingHistory ?? true) await seedBillingHistory(services, tenantIds, new Date());
  return true;
}

/**
 * The whitepaper's example (issue 13): Blue Corp and Yellow Corp each keep
 * 10.1.1.0/24 in their own VM network "intranet" (VSIDs 5001 and 6001); the
 * provider's PA pools, one per cluster on logical network "provider". A VM
 * created on network "intranet/lan" gets an address there.
 */
async function seedNetworks(services: Services, tenantIds: Map<string, string>) {
  const { network, uow } = services;
  for (const [name, vsid] of [
    ['Blue Corp', 5001],
    ['Yellow Corp', 6001],
  ] as const) {
    const tenantId = tenantIds.get(name);
    if (!tenantId) continue;
    const scope = { kind: 'tenant', tenantId } as const;
    const net = await network.createVmNetwork(SYSTEM_ACTOR, scope, { name: 'intranet', isolation: 'gre' });
    await network.createSubnet(SYSTEM_ACTOR, scope, { vmNetworkId: net.id, name: 'lan', prefix: '10.1.1.0/24', vsid });
  }
  const provider = await network.createLogicalNetwork(SYSTEM_ACTOR, 'provider');
  for (const [i, cluster] of DEMO_CLUSTERS.entries()) {
    const row = await uow.repos.fabric.findClusterByName(cluster.name);
    if (!row) continue;
    await network.addPaPool(SYSTEM_ACTOR, {
      logicalNetworkId: provider.id,
      clusterId: row.id,
      prefix: `192.168.${i + 1}.0/24`,
      vlanId: 100 + i,
    });
  }
}

/** The demo's price list (USD). */
export const DEMO_PRICES = {
  vcpuHour: '0.0125',
  memoryGiBHour: '0.0045',
  diskGiBMonth: '0.08',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.04',
} as const;

/** VMs that ran before the demo started; `hours` is when in the UTC day they run (batch jobs run at night). */
const HISTORY_VMS = [
  {
    id: '00000000-0000-4000-8000-00000000b001',
    tenant: 'Blue Corp',
    name: 'web-01',
    vcpus: 2,
    memMiB: 4096,
    diskGiB: 40,
    load: 0.35,
    hours: [0, 24],
  },
  {
    id: '00000000-0000-4000-8000-00000000b002',
    tenant: 'Blue Corp',
    name: 'web-02',
    vcpus: 2,
    memMiB: 4096,
    diskGiB: 40,
    load: 0.3,
    hours: [0, 24],
  },
  {
    id: '00000000-0000-4000-8000-00000000b003',
    tenant: 'Blue Corp',
    name: 'sql-01',
    vcpus: 8,
    memMiB: 32768,
    diskGiB: 500,
    load: 0.5,
    hours: [0, 24],
  },
  {
    id: '00000000-0000-4000-8000-00000000c001',
    tenant: 'Yellow Corp',
    name: 'app-01',
    vcpus: 4,
    memMiB: 8192,
    diskGiB: 100,
    load: 0.4,
    hours: [0, 24],
  },
  {
    id: '00000000-0000-4000-8000-00000000c002',
    tenant: 'Yellow Corp',
    name: 'batch-01',
    vcpus: 16,
    memMiB: 65536,
    diskGiB: 200,
    load: 0.8,
    hours: [1, 7],
  },
] as const;

/**
 * Hourly rollups from the first day of last month to the current hour, with
 * a daily cycle and a deterministic jitter (no randomness: every demo is the
 * same), then the daily rollups from them by the same SQL the API uses. The
 * rate card is written directly: the service takes cards from today on only,
 * and the demo's provider has priced since last month.
 */
async function seedBillingHistory(services: Services, tenantIds: Map<string, string>, now: Date) {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const to = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  if ((await services.uow.repos.chargeback.listRateCards()).length === 0) {
    await services.uow.repos.chargeback.addRateCard(
      { currency: 'USD', effectiveFrom: from.toISOString().slice(0, 10), prices: DEMO_PRICES },
      'demo seed',
    );
  }
  for (const vm of HISTORY_VMS) {
    const tenantId = tenantIds.get(vm.tenant);
    if (!tenantId) continue;
    // load: the VM's mean CPU share, swinging ±40 % over the day, plus jitter from the hour number.
    await services.pool.query(
      `WITH hours AS (
         SELECT h, extract(hour FROM h AT TIME ZONE 'UTC')::int AS hod,
                ((extract(epoch FROM h)::bigint / 3600) * 2654435761 % 1000) / 1000.0 AS jitter
         FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h
       ), shaped AS (
         SELECT h, jitter, (hod >= $9 AND hod < $10) AS running,
                round(least(1.0, $6::numeric * (1 + 0.4 * sin(2 * pi() * (hod - 8) / 24))::numeric * (0.85 + 0.3 * jitter)), 6) AS load
         FROM hours
       )
       INSERT INTO vm_usage_hourly (vm_id, tenant_id, hour, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
         mem_min_mib, mem_max_mib, disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
         net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds, vcpus, vm_name)
       SELECT $3::uuid, $4::uuid, h, 60, 3600,
         CASE WHEN running THEN round(load * $5 * 2400 * 3600, 3) ELSE 0 END,
         CASE WHEN running THEN $7::numeric * 3600 ELSE 0 END,
         CASE WHEN running THEN $7::numeric ELSE 0 END, CASE WHEN running THEN $7::numeric ELSE 0 END,
         $8::numeric * 3600,
         CASE WHEN running THEN round(load * 2e9) ELSE 0 END, CASE WHEN running THEN round(load * 8e8) ELSE 0 END,
         CASE WHEN running THEN round(load * 3e8) ELSE 0 END, CASE WHEN running THEN round(load * 9e8) ELSE 0 END,
         CASE WHEN running THEN round(load * 5e8) ELSE 0 END, CASE WHEN running THEN round(load * 2e8) ELSE 0 END,
         CASE WHEN running THEN 3600 ELSE 0 END, $5, $11
       FROM shaped
       ON CONFLICT (vm_id, hour) DO NOTHING`,
      [from, to, vm.id, tenantId, vm.vcpus, vm.load, vm.memMiB, vm.diskGiB, vm.hours[0], vm.hours[1], vm.name],
    );
  }
  await services.pool.query(
    `SELECT rollup_vm_usage_days(array(SELECT d::date FROM generate_series($1::date, $2::date, interval '1 day') d))`,
    [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
  );
}
