import type { HostChangeEvent } from '@fabric/core/fabric/fabric.schema';
import type { HeartbeatRecorder, HeartbeatWrite, HeartbeatWriteOutcome } from '@fabric/core/fabric/heartbeat-recorder';
import type { HostState } from '@fabric/core/fabric/host-state';
import type pg from 'pg';
import { GroupCommit } from './group-commit';
import { HOST_EVENTS_CHANNEL } from './prisma-fabric-repository';

/**
 * Many hosts' heartbeats in one statement: each beat's credential still the
 * host's (`ok`), its `seq` above the host's last (`beat`, re-checked on the
 * row the UPDATE waited for, so concurrent messages of one host stay
 * ordered), its own time and agent version written. Every input row gets an
 * answer row: `ok` false is a removed host or replaced credential, no `id`
 * a replay. GroupCommit never puts one host in a batch twice.
 */
const RECORD_STATEMENT = `
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[])
    AS t(i, host_id, secret_hash, seq, at, agent_version)
),
beat AS (
  SELECT input.* FROM input JOIN host_credentials c ON c.host_id = input.host_id AND c.secret_hash = input.secret_hash
),
updated AS (
  UPDATE hosts h SET last_seq = beat.seq, last_heartbeat_at = beat.at, agent_version = beat.agent_version
  FROM beat
  WHERE h.id = beat.host_id AND h.last_seq < beat.seq
  RETURNING h.id, h.name, h.cluster_id, h.state::text AS state, h.last_heartbeat_at, h.registered_at, h.inventory_hash
)
SELECT input.i, beat.i IS NOT NULL AS ok, u.*
FROM input LEFT JOIN beat ON beat.i = input.i LEFT JOIN updated u ON u.id = input.host_id`;

interface RecordRow {
  i: number;
  ok: boolean;
  id: string | null;
  name: string;
  cluster_id: string;
  state: HostState;
  last_heartbeat_at: Date | null;
  registered_at: Date;
  inventory_hash: string;
}

/** A deadlock with another multi-row writer (a monitor pass, another API process) is retried this often. */
const DEADLOCK_RETRIES = 3;

/**
 * The heartbeat recorder of the API: beats that arrive while a write is
 * running are written together in the next one (group commit), and so are
 * their announcements (one `pg_notify` statement for many). At 1,000 beats a
 * second that is a few round trips a millisecond apart instead of three
 * Prisma queries per beat.
 */
export class PgHeartbeatRecorder implements HeartbeatRecorder {
  private readonly writes: GroupCommit<HeartbeatWrite, HeartbeatWriteOutcome>;
  private readonly announcements: GroupCommit<string, undefined>;

  constructor(private readonly pool: pg.Pool) {
    this.writes = new GroupCommit((batch) => this.writeBatch(batch), {
      key: (write) => write.hostId,
      maxBatch: 1_000,
      maxInFlight: 2,
    });
    this.announcements = new GroupCommit((payloads) => this.notify(payloads), { maxBatch: 1_000, maxInFlight: 1 });
  }

  record(write: HeartbeatWrite): Promise<HeartbeatWriteOutcome> {
    return this.writes.submit(write);
  }

  async announce(event: HostChangeEvent): Promise<void> {
    await this.announcements.submit(
      JSON.stringify({ ...event, lastHeartbeatAt: event.lastHeartbeatAt?.toISOString() ?? null }),
    );
  }

  private async writeBatch(batch: HeartbeatWrite[]): Promise<HeartbeatWriteOutcome[]> {
    // Rows are locked in host id order, as every batch does, so two batches (of two API processes) do not deadlock
    // each other; a multi-row writer with another order still may, and is retried.
    const order = batch.map((_, i) => i).sort((a, b) => ((batch[a]?.hostId ?? '') < (batch[b]?.hostId ?? '') ? -1 : 1));
    const params = [
      order,
      order.map((i) => batch[i]?.hostId),
      order.map((i) => batch[i]?.credentialHash),
      order.map((i) => String(batch[i]?.seq)),
      order.map((i) => batch[i]?.at),
      order.map((i) => batch[i]?.agentVersion),
    ];
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows } = await this.pool.query<RecordRow>(RECORD_STATEMENT, params);
        const outcomes: HeartbeatWriteOutcome[] = batch.map(() => ({ kind: 'replayed' }));
        for (const row of rows) {
          if (!row.ok) outcomes[row.i] = { kind: 'credential-invalid' };
          else if (row.id)
            outcomes[row.i] = {
              kind: 'recorded',
              host: {
                id: row.id,
                name: row.name,
                clusterId: row.cluster_id,
                state: row.state,
                lastHeartbeatAt: row.last_heartbeat_at,
                registeredAt: row.registered_at,
                inventoryHash: row.inventory_hash,
              },
            };
        }
        return outcomes;
      } catch (error) {
        const deadlock = typeof error === 'object' && error !== null && 'code' in error && error.code === '40P01';
        if (!deadlock || attempt >= DEADLOCK_RETRIES) throw error;
      }
    }
  }

  private async notify(payloads: string[]): Promise<undefined[]> {
    await this.pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n', [
      HOST_EVENTS_CHANNEL,
      payloads,
    ]);
    return payloads.map(() => undefined);
  }
}
