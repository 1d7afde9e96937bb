// The demo's overlapping tenant networks (issue 13), for `npm start` only (the
// browser tests count their tenants' VMs): Blue Corp and Yellow Corp each run
// "app-01" on their own VM network "intranet", subnet "lan" (10.1.1.0/24 in
// both, as in the whitepaper), so both get the same customer address and the
// Networks pages show the isolation holding. Through the API, as the portal
// would. Idempotent: a tenant that already has app-01 is left alone.

import { ApiClient } from '../../apps/api/src/testing/api-client';
import { DEMO_USERS } from '../../prisma/seed';

export async function seedDemoNetworks(apiUrl: string, origin: string, log: (line: string) => void): Promise<void> {
  for (const tenant of ['Blue Corp', 'Yellow Corp']) {
    const user = DEMO_USERS.find((u) => u.role === 'tenant-admin' && u.tenant === tenant);
    if (!user) continue;
    const client = await ApiClient.signIn(apiUrl, user.email, user.password, origin);
    const found = await client.query<{ rows: { name: string }[] }>('vms.list', { search: 'app-01' });
    if (found.rows.some((v) => v.name === 'app-01')) continue;
    await client.mutate('vms.create', {
      name: 'app-01',
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: 1024 },
      disks: [{ sizeGiB: 1 }],
      nics: [{ name: 'nic0', network: 'intranet/lan' }],
      startAfterCreate: true,
    });
    log(`demo networks: ${tenant}'s app-01 on intranet/lan (10.1.1.0/24)`);
  }
}
