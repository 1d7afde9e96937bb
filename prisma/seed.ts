// The demo: a provider admin and a finance user; the whitepaper's Blue Corp and
// Yellow Corp, each with an admin and a user; two clusters. Hosts are not
// seeded: the demo's agents register them, as real hosts would.
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

export async function seedDemo(services: Services): Promise<boolean> {
  const { tenancy, fabric, uow } = services;
  if (await uow.repos.tenancy.findUserByEmail(DEMO_USERS[0].email)) return false;
  const provider = { kind: 'provider' } as const;
  const tenantIds = new Map<string, string>();
  for (const name of ['Blue Corp', 'Yellow Corp']) {
    const existing = (await tenancy.listTenants(provider)).find((t) => t.name === name);
    tenantIds.set(name, existing?.id ?? (await tenancy.createTenant(SYSTEM_ACTOR, { name })).id);
  }
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
  return true;
}
