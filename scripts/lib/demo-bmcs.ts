// The demo's BMCs (issue 11, HA fencing through a BMC): every demo host has a simulated
// Redfish BMC beside its agent (apps/agent/src/bmc), started by stack.ts. Once the agents
// have registered, each host's BMC login is set through the API, as the provider would in
// the console, so switching a cluster's fence method to "bmc" works at once. Idempotent: a
// host whose BMC is set already is left alone.

import { ApiClient } from '../../apps/api/src/testing/api-client';
import { DEMO_USERS } from '../../prisma/seed';

export interface DemoBmc {
  hostname: string;
  url: string;
  username: string;
  password: string;
}

export async function seedDemoBmcs(
  apiUrl: string,
  origin: string,
  bmcs: DemoBmc[],
  log: (line: string) => void,
): Promise<void> {
  const adminUser = DEMO_USERS.find((u) => u.role === 'provider-admin');
  if (!adminUser || !bmcs.length) return;
  const admin = await ApiClient.signIn(apiUrl, adminUser.email, adminUser.password, origin);
  const pending = new Map(bmcs.map((b) => [b.hostname, b]));
  const deadline = Date.now() + 120_000;
  while (pending.size && Date.now() < deadline) {
    for (const bmc of [...pending.values()]) {
      const list = await admin.query<{ rows: { id: string; name: string }[] }>('hosts.list', { search: bmc.hostname });
      const host = list.rows.find((h) => h.name === bmc.hostname);
      if (!host) continue;
      if ((await admin.query<unknown>('hosts.bmc', { hostId: host.id })) === null) {
        await admin.mutate('hosts.setBmc', {
          hostId: host.id,
          url: bmc.url,
          username: bmc.username,
          password: bmc.password,
        });
      }
      pending.delete(bmc.hostname);
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 1000));
  }
  if (pending.size)
    log(`demo BMCs: ${[...pending.keys()].join(', ')} did not register in 2 minutes; their BMC is not set`);
}
