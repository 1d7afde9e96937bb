import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import {
  createStoppedVm,
  existedSince,
  minuteSample,
  registerProductionHost,
  type TestHost,
} from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// The samples endpoint trusts a verified credential for a while before its
// body is read (FabricService.authenticateAgentForWrite), but its write checks
// the credential again: a credential verified a moment ago and revoked since
// stores nothing, at once.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: TestHost;
let vmId: string;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'cred-01');
  vmId = await createStoppedVm(c.blueAdmin, 'cred-vm-01');
  await existedSince(api, { vmIds: [vmId] });
  await api.services.metering.housekeeping();
});
afterAll(() => api?.close());

const post = (h: TestHost, minute: number, id = vmId) =>
  agentPost(
    api.url,
    `/agent/v1/hosts/${h.hostId}/samples`,
    { seq: ++h.seq, batch: h.seq, samples: [minuteSample(id, Date.UTC(2026, 10, 3, 10, minute))] },
    { credential: h.credential },
  );

const lastSeq = async (hostId: string) =>
  withSql(api.databaseUrl, async (sql) => {
    const r = await sql.query<{ s: string }>('SELECT last_seq::text AS s FROM hosts WHERE id = $1', [hostId]);
    return Number(r.rows[0]?.s);
  });

describe('samples and a credential revoked after it was verified', () => {
  it('a replaced credential stores nothing from the next batch on, and the refusal is audited', async () => {
    expect(await post(host, 1)).toMatchObject({ status: 200, body: { stored: 1, ignored: 0 } });
    // Replaced behind the cache's back (as a re-registration does).
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`UPDATE host_credentials SET secret_hash = repeat('0', 64) WHERE host_id = $1`, [host.hostId]),
    );
    const seqBefore = await lastSeq(host.hostId);
    const denied = await countRows(api.databaseUrl, 'audit_events', `action = 'agent.authenticate'`);
    const refused = await post(host, 2);
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'CREDENTIAL_INVALID' } } });
    expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vmId}'`)).toBe(1);
    expect(await lastSeq(host.hostId)).toBe(seqBefore);
    expect(await countRows(api.databaseUrl, 'audit_events', `action = 'agent.authenticate'`)).toBe(denied + 1);
  });

  it('a removed host’s credential stops working at once', async () => {
    const lone = await registerProductionHost(api, c.admin, 'cred-02');
    // Verified (and so cached): a sample for a VM it does not run is ignored.
    expect(await post(lone, 1)).toMatchObject({ status: 200, body: { stored: 0, ignored: 1 } });
    await c.admin.mutate('hosts.remove', { id: lone.hostId });
    expect((await post(lone, 2)).status).toBe(401);
  });

  it('a replayed batch is refused and changes nothing, a later one is taken', async () => {
    const h = await registerProductionHost(api, c.admin, 'cred-03');
    const vm = await createStoppedVm(c.blueAdmin, 'cred-vm-03');
    await existedSince(api, { vmIds: [vm] });
    // Set on this host directly: placement is not what this test is about.
    await withSql(api.databaseUrl, (sql) => sql.query('UPDATE vms SET host_id = $2 WHERE id = $1', [vm, h.hostId]));
    expect(await post(h, 1, vm)).toMatchObject({ status: 200, body: { stored: 1 } });
    h.seq -= 1;
    expect(await post(h, 2, vm)).toMatchObject({ status: 409, body: { error: { code: 'REPLAYED' } } });
    expect(await countRows(api.databaseUrl, 'vm_samples', `vm_id = '${vm}'`)).toBe(1);
    expect(await post(h, 2, vm)).toMatchObject({ status: 200, body: { stored: 1 } });
  });
});
