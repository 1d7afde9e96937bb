import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { countRows, startTestApi, type TestApi, withSql } from '../testing/harness';
import { registerProductionHost, type TestHost } from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Heartbeats are authenticated from a short memory and written together with
// other hosts' (PgHeartbeatRecorder): each must still be checked and recorded
// on its own terms.

let api: TestApi;
let c: Record<DemoLogin, ApiClient>;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  c = await seedAndSignIn(api);
});
afterAll(() => api?.close());

const beat = (h: TestHost, seq = ++h.seq) =>
  agentPost(
    api.url,
    `/agent/v1/hosts/${h.hostId}/heartbeat`,
    { seq, agentVersion: `v-${seq}`, inventoryHash: '' },
    { credential: h.credential },
  );

const hostRow = (hostId: string) =>
  withSql(api.databaseUrl, async (sql) => {
    const r = await sql.query<{ seq: string; agent_version: string; at: Date | null }>(
      'SELECT last_seq::text AS seq, agent_version, last_heartbeat_at AS at FROM hosts WHERE id = $1',
      [hostId],
    );
    return r.rows[0];
  });

describe('heartbeats written together', () => {
  it('many hosts at once: every beat is recorded with its own sequence number and version', async () => {
    const hosts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => registerProductionHost(api, c.admin, `gc-${String(i).padStart(2, '0')}`)),
    );
    const answers = await Promise.all(hosts.map((h) => beat(h)));
    expect(answers.map((a) => a.status)).toEqual(hosts.map(() => 200));
    for (const h of hosts) {
      const row = await hostRow(h.hostId);
      expect(row).toMatchObject({ seq: String(h.seq), agent_version: `v-${h.seq}` });
      expect(row?.at).not.toBeNull();
    }
  });

  it('one host sending twice at once: the two beats are written one after the other, never merged', async () => {
    const h = await registerProductionHost(api, c.admin, 'gc-twice');
    const [first, second] = await Promise.all([beat(h, h.seq + 1), beat(h, h.seq + 2)]);
    // The later one always stands; the earlier one is taken, or refused if it arrived second.
    expect(second.status).toBe(200);
    expect([200, 409]).toContain(first.status);
    expect(await hostRow(h.hostId)).toMatchObject({ seq: String(h.seq + 2), agent_version: `v-${h.seq + 2}` });
    h.seq += 2;
    // And a replay among other hosts' beats is refused alone.
    const other = await registerProductionHost(api, c.admin, 'gc-other');
    const [replay, fresh] = await Promise.all([beat(h, h.seq), beat(other)]);
    expect(replay).toMatchObject({ status: 409, body: { error: { code: 'REPLAYED' } } });
    expect(fresh.status).toBe(200);
  });

  it('a credential replaced after it was verified writes nothing, and the refusal is audited', async () => {
    const h = await registerProductionHost(api, c.admin, 'gc-replaced');
    expect((await beat(h)).status).toBe(200);
    await withSql(api.databaseUrl, (sql) =>
      sql.query(`UPDATE host_credentials SET secret_hash = repeat('0', 64) WHERE host_id = $1`, [h.hostId]),
    );
    const before = await hostRow(h.hostId);
    const denied = await countRows(api.databaseUrl, 'audit_events', `action = 'agent.authenticate'`);
    expect(await beat(h)).toMatchObject({ status: 401, body: { error: { code: 'CREDENTIAL_INVALID' } } });
    expect(await hostRow(h.hostId)).toEqual(before);
    expect(await countRows(api.databaseUrl, 'audit_events', `action = 'agent.authenticate'`)).toBe(denied + 1);
  });

  it('a removed host’s heartbeat is refused at once', async () => {
    const h = await registerProductionHost(api, c.admin, 'gc-removed');
    expect((await beat(h)).status).toBe(200);
    await c.admin.mutate('hosts.remove', { id: h.hostId });
    expect((await beat(h)).status).toBe(401);
  });
});
