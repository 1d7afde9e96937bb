import type { MeasureParts, Span, VmPeriodTotals } from '@fabric/core/metering/measure';
import type {
  MeasuredTotals,
  MeteringRepository,
  SampleBatch,
  SampleBatchOutcome,
} from '@fabric/core/metering/metering-repository';
import type { SampleFacts, SampleVmFacts } from '@fabric/core/metering/sample-plausibility';
import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import type { BucketTotals } from '@fabric/core/metering/usage-series';
import type { UsageBucket } from '@fabric/core/metering/usage-series.schema';
import type pg from 'pg';
import { runForAllTenants } from '../tenancy/db-scope';

/**
 * A host's batch in one statement (one round trip, one transaction): the
 * credential still the host's (`auth`), `seq` above the last one (`accepted`,
 * atomic under concurrent messages: the UPDATE re-checks the row it waited
 * for), the samples of VMs on the host (`batch`, tenant from the VM) stored
 * once per (vm, at), and the hours of new ones marked for rollup (a sample
 * ending exactly on the hour belongs to the hour before it). Nothing is
 * written unless `accepted` has its row. `$acls` is spliced in for batches
 * with metered ACLs only, and `$nics` (each vNIC's bandwidth, kept on its
 * vm_nics row as the latest the switch gave it) for batches that carry it: a
 * batch without either stays the lean statement.
 */
const ingestStatement = (acls: boolean, nics: boolean) => {
  // The bandwidth arrays come after the ACL arrays when both are there: numbered from where those end.
  const n = acls ? 24 : 18;
  return `
WITH auth AS (
  SELECT h.id, h.last_seq < $3::bigint AS fresh
  FROM hosts h JOIN host_credentials c ON c.host_id = h.id
  WHERE h.id = $1::uuid AND c.secret_hash = $2::text
),${
    acls
      ? `
known AS (SELECT name FROM metered_address_classes WHERE name = ANY($23::text[]) FOR KEY SHARE),
unknown AS (SELECT array_agg(n ORDER BY n) AS names FROM unnest($23::text[]) AS t(n) WHERE n NOT IN (SELECT name FROM known)),`
      : ''
  }
accepted AS (
  UPDATE hosts h SET last_seq = $3::bigint FROM auth
  WHERE h.id = auth.id AND h.last_seq < $3::bigint${acls ? ' AND (SELECT names FROM unknown) IS NULL' : ''}
  RETURNING h.id
),
batch AS (
  SELECT s.*, v.tenant_id
  FROM unnest($4::uuid[], $5::timestamptz[], $6::int[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[],
    $11::numeric[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[])
    AS s(vm_id, at, interval_s, cpu_avg_mhz, mem_avg_mib, mem_min_mib, mem_max_mib, disk_allocated_gib,
      disk_read_bytes, disk_write_bytes, net_in_internet_bytes, net_out_internet_bytes, net_in_datacenter_bytes,
      net_out_datacenter_bytes)
  JOIN vms v ON v.id = s.vm_id AND v.host_id = $1::uuid
),
new_samples AS (
  INSERT INTO vm_samples (vm_id, tenant_id, host_id, at, interval_s, cpu_avg_mhz, mem_avg_mib, mem_min_mib,
    mem_max_mib, disk_allocated_gib, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
    net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes)
  SELECT b.vm_id, b.tenant_id, a.id, b.at, b.interval_s, b.cpu_avg_mhz, b.mem_avg_mib, b.mem_min_mib, b.mem_max_mib,
    b.disk_allocated_gib, b.disk_read_bytes, b.disk_write_bytes, b.net_in_internet_bytes, b.net_out_internet_bytes,
    b.net_in_datacenter_bytes, b.net_out_datacenter_bytes
  FROM batch b CROSS JOIN accepted a
  ON CONFLICT (vm_id, at) DO NOTHING
  RETURNING vm_id, tenant_id, at
),${
    acls
      ? `
new_acls AS (
  -- Only the ACL rows of samples new now: a resent sample adds nothing.
  INSERT INTO vm_acl_samples (vm_id, tenant_id, at, acl, in_bytes, out_bytes)
  SELECT n.vm_id, n.tenant_id, n.at, a.acl, a.in_bytes, a.out_bytes
  FROM unnest($18::uuid[], $19::timestamptz(3)[], $20::text[], $21::bigint[], $22::bigint[])
    AS a(vm_id, at, acl, in_bytes, out_bytes)
  JOIN new_samples n ON n.vm_id = a.vm_id AND n.at = a.at
  ON CONFLICT (vm_id, at, acl) DO NOTHING
),`
      : ''
  }
${
  nics
    ? `
nic_bandwidth AS (
  -- From samples new now only, the latest of each vNIC in the batch, and never over a later reading.
  UPDATE vm_nics v SET bandwidth_at = x.at, offered_mbps = x.offered, achieved_mbps = x.achieved,
    bandwidth_limited_by = x.limited_by
  FROM (
    SELECT DISTINCT ON (b.vm_id, b.nic) b.*
    FROM unnest($${n}::uuid[], $${n + 1}::timestamptz(3)[], $${n + 2}::text[], $${n + 3}::float8[], $${n + 4}::float8[],
      $${n + 5}::text[]) AS b(vm_id, at, nic, offered, achieved, limited_by)
    JOIN new_samples s ON s.vm_id = b.vm_id AND s.at = b.at
    ORDER BY b.vm_id, b.nic, b.at DESC
  ) x
  WHERE v.vm_id = x.vm_id AND v.name = x.nic AND (v.bandwidth_at IS NULL OR v.bandwidth_at < x.at)
),`
    : ''
}
pending AS (
  INSERT INTO rollup_pending (hour)
  SELECT DISTINCT date_trunc('hour', at - interval '1 millisecond') FROM new_samples
  ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM auth)::int AS authenticated,
  coalesce((SELECT fresh FROM auth), false) AS fresh,
  (SELECT count(*) FROM accepted)::int AS accepted,
  (SELECT count(*) FROM batch)::int AS on_host,
  (SELECT count(*) FROM new_samples)::int AS stored,
  ${acls ? '(SELECT names FROM unknown)' : 'NULL::text[]'} AS unknown_acls`;
};

/**
 * What a batch is judged against (sample-plausibility.ts), in one read: the
 * host, the batch's VMs on it, and for each sample of those VMs the first
 * stored sample of the VM whose span (at − interval, at] overlaps its own. A
 * stored span overlapping (at − i, at] ends after at − i and before at + its
 * own interval (≤ 3600 s), so the (vm_id, at) key bounds the search.
 */
const SAMPLE_FACTS = `
WITH b AS (
  SELECT * FROM unnest($2::uuid[], $3::timestamptz[], $4::int[]) WITH ORDINALITY AS b(vm_id, at, interval_s, i)
),
on_host AS (
  SELECT v.id, v.created_at, v.vcpus, greatest(v.memory_mib, v.maximum_memory_mib) AS max_mib
  FROM vms v WHERE v.host_id = $1::uuid AND v.id = ANY($2::uuid[])
),
overlapping AS (
  SELECT b.i - 1 AS index, s.at, s.interval_s
  FROM b JOIN on_host o ON o.id = b.vm_id
  CROSS JOIN LATERAL (
    SELECT s.at, s.interval_s FROM vm_samples s
    WHERE s.vm_id = b.vm_id AND s.at > b.at - make_interval(secs => b.interval_s)
      AND s.at < b.at + interval '3600 seconds' AND s.at - make_interval(secs => s.interval_s) < b.at
      AND NOT (s.at = b.at AND s.interval_s = b.interval_s)
    LIMIT 1
  ) s
)
SELECT h.registered_at, h.cpu_mhz,
  (SELECT array_agg(id::text ORDER BY id) FROM on_host) AS vm_ids,
  (SELECT array_agg(created_at ORDER BY id) FROM on_host) AS vm_created,
  (SELECT array_agg(vcpus ORDER BY id) FROM on_host) AS vm_vcpus,
  (SELECT array_agg(max_mib ORDER BY id) FROM on_host) AS vm_max_mib,
  (SELECT array_agg(index::int ORDER BY index) FROM overlapping) AS overlap_index,
  (SELECT array_agg(at ORDER BY index) FROM overlapping) AS overlap_at,
  (SELECT array_agg(interval_s ORDER BY index) FROM overlapping) AS overlap_interval
FROM (SELECT 1) AS one LEFT JOIN hosts h ON h.id = $1::uuid`;

interface SampleFactsRow {
  registered_at: Date | null;
  cpu_mhz: number | null;
  vm_ids: string[] | null;
  vm_created: Date[] | null;
  vm_vcpus: number[] | null;
  vm_max_mib: number[] | null;
  overlap_index: number[] | null;
  overlap_at: Date[] | null;
  overlap_interval: number[] | null;
}

/** The four shapes of the ingest statement, each prepared once per connection under its own name. */
const INGEST = {
  plain: ingestStatement(false, false),
  acls: ingestStatement(true, false),
  nics: ingestStatement(false, true),
  'acls-nics': ingestStatement(true, true),
} as const;

interface IngestRow {
  authenticated: number;
  fresh: boolean;
  accepted: number;
  on_host: number;
  stored: number;
  unknown_acls: string[] | null;
}

/**
 * Metering on plain `pg` (STYLE.md rule 6: hot paths use SQL): a batch of
 * samples is one statement whatever its size, and rollups are computed by
 * Postgres.
 */
export class PgMeteringRepository implements MeteringRepository {
  constructor(private readonly pool: pg.Pool) {}

  async ingestBatch(batch: SampleBatch): Promise<SampleBatchOutcome> {
    const { samples } = batch;
    const col = <T>(f: (s: VmSample) => T) => samples.map(f);
    const values: unknown[] = [
      batch.hostId,
      batch.credentialHash,
      batch.seq,
      col((s) => s.vmId),
      col((s) => s.at),
      col((s) => s.intervalSeconds),
      col((s) => s.cpuAvgMhz),
      col((s) => s.memoryAvgMiB),
      col((s) => s.memoryMinMiB),
      col((s) => s.memoryMaxMiB),
      col((s) => s.diskAllocatedGiB),
      col((s) => s.diskReadBytes),
      col((s) => s.diskWriteBytes),
      col((s) => s.networkInInternetBytes),
      col((s) => s.networkOutInternetBytes),
      col((s) => s.networkInDatacenterBytes),
      col((s) => s.networkOutDatacenterBytes),
    ];
    const acls = samples.flatMap((s) => (s.networkAcls ?? []).map((a) => ({ vmId: s.vmId, at: s.at, ...a })));
    if (acls.length) {
      values.push(
        acls.map((a) => a.vmId),
        acls.map((a) => a.at),
        acls.map((a) => a.acl),
        acls.map((a) => a.inBytes),
        acls.map((a) => a.outBytes),
        [...new Set(acls.map((a) => a.acl))],
      );
    }
    const nics = samples.flatMap((s) => (s.nics ?? []).map((b) => ({ vmId: s.vmId, at: s.at, ...b })));
    if (nics.length) {
      values.push(
        nics.map((b) => b.vmId),
        nics.map((b) => b.at),
        nics.map((b) => b.nic),
        nics.map((b) => b.offeredMbps),
        nics.map((b) => b.achievedMbps),
        nics.map((b) => b.limitedBy),
      );
    }
    const shape = acls.length ? (nics.length ? 'acls-nics' : 'acls') : nics.length ? 'nics' : 'plain';
    // Named: parsed and planned once per connection, not per batch.
    const r = await this.pool.query<IngestRow>({
      name: shape === 'plain' ? 'fabric.ingest-samples' : `fabric.ingest-samples-${shape}`,
      text: INGEST[shape],
      values,
    });
    const row = r.rows[0];
    if (!row || row.authenticated === 0) return { kind: 'credential-invalid' };
    // A stale seq is a replay whatever else the batch holds (it was refused first before).
    if (!row.fresh) return { kind: 'replayed' };
    if (row.unknown_acls?.length) return { kind: 'unknown-acls', names: row.unknown_acls };
    // Fresh when read, overtaken by a concurrent message before its write: a replay too.
    if (row.accepted === 0) return { kind: 'replayed' };
    return { kind: 'stored', onHost: row.on_host, stored: row.stored };
  }

  async sampleFacts(hostId: string, samples: readonly VmSample[]): Promise<SampleFacts> {
    const r = await this.pool.query<SampleFactsRow>({
      name: 'fabric.sample-facts',
      text: SAMPLE_FACTS,
      values: [hostId, samples.map((s) => s.vmId), samples.map((s) => s.at), samples.map((s) => s.intervalSeconds)],
    });
    const row = r.rows[0];
    const vms = new Map<string, SampleVmFacts>();
    // Parallel arrays, each aggregated in id order.
    (row?.vm_ids ?? []).forEach((id, i) => {
      const createdAt = row?.vm_created?.[i];
      const vcpus = row?.vm_vcpus?.[i];
      const maximumMemoryMiB = row?.vm_max_mib?.[i];
      if (createdAt && vcpus !== undefined && maximumMemoryMiB !== undefined) {
        vms.set(id, { createdAt, vcpus, maximumMemoryMiB });
      }
    });
    const overlaps = (row?.overlap_index ?? []).flatMap((index, i) => {
      const at = row?.overlap_at?.[i];
      const intervalSeconds = row?.overlap_interval?.[i];
      return at && intervalSeconds !== undefined ? [{ index, at, intervalSeconds }] : [];
    });
    const host =
      row?.registered_at && row.cpu_mhz !== null ? { registeredAt: row.registered_at, cpuMhz: row.cpu_mhz } : null;
    return { host, vms, overlaps };
  }

  async rollupPending(limit: number): Promise<number> {
    // Every tenant's samples, whoever's work runs it: a rollup seeing one tenant
    // would mark the hours done for all (row-level security, db-scope.ts).
    const client = await runForAllTenants(() => this.pool.connect());
    try {
      await client.query('BEGIN');
      // SKIP LOCKED: several API processes share the work, none does an hour twice at once.
      const pending = await client.query<{ hour: Date }>(
        'SELECT hour FROM rollup_pending ORDER BY hour LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      const hours = pending.rows.map((r) => r.hour);
      if (hours.length) {
        await client.query(
          `INSERT INTO vm_usage_hourly (vm_id, tenant_id, hour, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
             mem_min_mib, mem_max_mib, disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
             net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds, vcpus, vm_name)
           SELECT s.vm_id, s.tenant_id, h.hour, count(*), sum(s.interval_s), sum(s.cpu_avg_mhz * s.interval_s),
             -- The minimum is over the time the VM held memory: an off VM's 0 is not its minimum (Measure-VM's
             -- MinimumMemory); an hour it never ran stores 0 with no running seconds.
             sum(s.mem_avg_mib * s.interval_s),
             coalesce(min(s.mem_min_mib) FILTER (WHERE s.mem_avg_mib > 0 OR s.cpu_avg_mhz > 0), 0), max(s.mem_max_mib),
             sum(s.disk_allocated_gib * s.interval_s), sum(s.disk_read_bytes), sum(s.disk_write_bytes),
             sum(s.net_in_internet_bytes), sum(s.net_out_internet_bytes), sum(s.net_in_datacenter_bytes),
             sum(s.net_out_datacenter_bytes),
             -- A VM ran during a sample when it held memory or used CPU (off and saved VMs report neither).
             coalesce(sum(s.interval_s) FILTER (WHERE s.mem_avg_mib > 0 OR s.cpu_avg_mhz > 0), 0),
             coalesce(max(v.vcpus), 0), coalesce(max(v.name), '')
           FROM unnest($1::timestamptz[]) AS h(hour)
           JOIN vm_samples s ON s.at > h.hour AND s.at <= h.hour + interval '1 hour'
           LEFT JOIN vms v ON v.id = s.vm_id
           GROUP BY s.vm_id, s.tenant_id, h.hour
           ON CONFLICT (vm_id, hour) DO UPDATE SET samples = EXCLUDED.samples, seconds = EXCLUDED.seconds,
             cpu_mhz_seconds = EXCLUDED.cpu_mhz_seconds, mem_mib_seconds = EXCLUDED.mem_mib_seconds,
             mem_min_mib = EXCLUDED.mem_min_mib, mem_max_mib = EXCLUDED.mem_max_mib,
             disk_gib_seconds = EXCLUDED.disk_gib_seconds, disk_read_bytes = EXCLUDED.disk_read_bytes,
             disk_write_bytes = EXCLUDED.disk_write_bytes, net_in_internet_bytes = EXCLUDED.net_in_internet_bytes,
             net_out_internet_bytes = EXCLUDED.net_out_internet_bytes,
             net_in_datacenter_bytes = EXCLUDED.net_in_datacenter_bytes,
             net_out_datacenter_bytes = EXCLUDED.net_out_datacenter_bytes,
             running_seconds = EXCLUDED.running_seconds,
             -- A deleted VM keeps the size and name it was billed with.
             vcpus = CASE WHEN EXCLUDED.vcpus > 0 THEN EXCLUDED.vcpus ELSE vm_usage_hourly.vcpus END,
             vm_name = CASE WHEN EXCLUDED.vm_name <> '' THEN EXCLUDED.vm_name ELSE vm_usage_hourly.vm_name END`,
          [hours],
        );
        // The UTC days of these hours, recomputed whole from the hourly rows in
        // the same transaction: a crash leaves the hours pending and nothing half-written.
        // Per metered ACL, the same hours recomputed whole from vm_acl_samples (no rows when none was metered).
        await client.query(
          `INSERT INTO vm_acl_usage_hourly (vm_id, tenant_id, hour, acl, in_bytes, out_bytes)
           SELECT a.vm_id, a.tenant_id, h.hour, a.acl, sum(a.in_bytes), sum(a.out_bytes)
           FROM unnest($1::timestamptz[]) AS h(hour)
           JOIN vm_acl_samples a ON a.at > h.hour AND a.at <= h.hour + interval '1 hour'
           GROUP BY a.vm_id, a.tenant_id, h.hour, a.acl
           ON CONFLICT (vm_id, hour, acl) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, in_bytes = EXCLUDED.in_bytes,
             out_bytes = EXCLUDED.out_bytes`,
          [hours],
        );
        await client.query(
          `SELECT rollup_vm_usage_days(array(SELECT DISTINCT (h AT TIME ZONE 'UTC')::date
             FROM unnest($1::timestamptz[]) AS t(h)))`,
          [hours],
        );
        await client.query(
          `SELECT rollup_vm_acl_usage_days(array(SELECT DISTINCT (h AT TIME ZONE 'UTC')::date
             FROM unnest($1::timestamptz[]) AS t(h)))`,
          [hours],
        );
        await client.query('DELETE FROM rollup_pending WHERE hour = ANY($1::timestamptz[])', [hours]);
      }
      await client.query('COMMIT');
      return hours.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async ensurePartitions(fromDay: Date, days: number) {
    // Several API processes (or a close racing the housekeeping worker) may
    // create the same day's partition: one at a time, under a lock that ends
    // with the transaction.
    const client = await runForAllTenants(() => this.pool.connect());
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('fabric.vm_sample_partitions'))");
      const r = await client.query<{ n: number }>('SELECT ensure_vm_sample_partitions($1::date, $2) AS n', [
        fromDay.toISOString().slice(0, 10),
        days,
      ]);
      await client.query('COMMIT');
      return r.rows[0]?.n ?? 0;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async dropPartitionsBefore(day: Date) {
    // vm_acl_samples is partitioned by the same days and dropped with vm_samples; the count is vm_samples' days.
    // DDL on the owner's tables: a SECURITY DEFINER function does it (the row_level_security migration).
    const r = await runForAllTenants(() =>
      this.pool.query<{ n: number }>('SELECT drop_vm_sample_partitions_before($1::date) AS n', [
        day.toISOString().slice(0, 10),
      ]),
    );
    return r.rows[0]?.n ?? 0;
  }

  async totals(vmId: string, from: Date, to: Date): Promise<MeasuredTotals> {
    const r = await this.pool.query<Record<string, string | null>>(
      `SELECT count(*) AS samples, coalesce(sum(interval_s), 0) AS seconds,
         coalesce(sum(cpu_avg_mhz * interval_s), 0) AS cpu, coalesce(sum(mem_avg_mib * interval_s), 0) AS mem,
         -- Over the samples of a running VM: a restart's off minute holds no memory and is no minimum.
         min(mem_min_mib) FILTER (WHERE mem_avg_mib > 0 OR cpu_avg_mhz > 0) AS mem_min, max(mem_max_mib) AS mem_max,
         coalesce(sum(disk_allocated_gib * interval_s), 0) AS disk,
         (array_agg(disk_allocated_gib ORDER BY at DESC))[1] AS last_disk,
         coalesce(sum(disk_read_bytes), 0) AS disk_read, coalesce(sum(disk_write_bytes), 0) AS disk_write,
         coalesce(sum(net_in_internet_bytes), 0) AS in_i, coalesce(sum(net_out_internet_bytes), 0) AS out_i,
         coalesce(sum(net_in_datacenter_bytes), 0) AS in_d, coalesce(sum(net_out_datacenter_bytes), 0) AS out_d
       FROM vm_samples WHERE vm_id = $1 AND at > $2 AND at <= $3`,
      [vmId, from, to],
    );
    const acls = await this.pool.query<{ acl: string; in_b: string; out_b: string }>(
      `SELECT acl, sum(in_bytes)::text AS in_b, sum(out_bytes)::text AS out_b
       FROM vm_acl_samples WHERE vm_id = $1 AND at > $2 AND at <= $3 GROUP BY acl ORDER BY acl COLLATE "C"`,
      [vmId, from, to],
    );
    const row = r.rows[0] ?? {};
    const n = (key: string) => Number(row[key] ?? 0);
    const maybe = (key: string) => (row[key] === null || row[key] === undefined ? null : Number(row[key]));
    return {
      samples: n('samples'),
      seconds: n('seconds'),
      cpuMhzSeconds: n('cpu'),
      memMibSeconds: n('mem'),
      memMinMiB: maybe('mem_min'),
      memMaxMiB: maybe('mem_max'),
      diskGibSeconds: n('disk'),
      lastDiskGiB: maybe('last_disk'),
      diskReadBytes: n('disk_read'),
      diskWriteBytes: n('disk_write'),
      netInInternet: n('in_i'),
      netOutInternet: n('out_i'),
      netInDatacenter: n('in_d'),
      netOutDatacenter: n('out_d'),
      acls: acls.rows.map((a) => ({ acl: a.acl, inBytes: Number(a.in_b), outBytes: Number(a.out_b) })),
    };
  }

  // ---- usage series (charts): sums per UTC hour or day, computed by Postgres.

  async rollupSeries(filter: { tenantId: string } | { vmId: string }, from: Date, to: Date, bucket: UsageBucket) {
    // Two statements rather than an OR, so each uses its index ((tenant_id, hour) or the (vm_id, hour) key).
    const [column, id] = 'tenantId' in filter ? ['tenant_id', filter.tenantId] : ['vm_id', filter.vmId];
    // date_trunc's third argument: UTC days whatever the session's time zone.
    const r = await this.pool.query<SeriesRow>(
      `SELECT date_trunc($4::text, hour, 'UTC') AS start, sum(seconds)::text AS metered,
         sum(cpu_mhz_seconds)::text AS cpu, sum(mem_mib_seconds)::text AS mem, sum(disk_gib_seconds)::text AS disk,
         sum(net_in_internet_bytes + net_in_datacenter_bytes)::text AS net_in,
         sum(net_out_internet_bytes + net_out_datacenter_bytes)::text AS net_out, sum(running_seconds)::text AS running
       FROM vm_usage_hourly WHERE ${column} = $1 AND hour >= $2 AND hour < $3
       GROUP BY 1 ORDER BY 1`,
      [id, from, to, bucket],
    );
    return r.rows.map(toBucketTotals);
  }

  async hostSampleSeries(hostId: string, from: Date, to: Date, bucket: UsageBucket) {
    // As in the rollups: a sample ending exactly on the hour belongs to the hour before it,
    // and a VM ran during a sample when it held memory or used CPU.
    const r = await this.pool.query<SeriesRow>(
      `SELECT date_trunc($4::text, at - interval '1 millisecond', 'UTC') AS start, sum(interval_s)::text AS metered,
         sum(cpu_avg_mhz * interval_s)::text AS cpu, sum(mem_avg_mib * interval_s)::text AS mem,
         sum(disk_allocated_gib * interval_s)::text AS disk,
         sum(net_in_internet_bytes + net_in_datacenter_bytes)::text AS net_in,
         sum(net_out_internet_bytes + net_out_datacenter_bytes)::text AS net_out,
         coalesce(sum(interval_s) FILTER (WHERE mem_avg_mib > 0 OR cpu_avg_mhz > 0), 0)::text AS running
       FROM vm_samples WHERE host_id = $1 AND at > $2 AND at <= $3
       GROUP BY 1 ORDER BY 1`,
      [hostId, from, to, bucket],
    );
    return r.rows.map(toBucketTotals);
  }

  async tenantExists(tenantId: string) {
    return (await this.pool.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rowCount === 1;
  }

  async hostExists(hostId: string) {
    return (await this.pool.query('SELECT 1 FROM hosts WHERE id = $1', [hostId])).rowCount === 1;
  }

  // ---- measuring many VMs together (core metering/measure.ts plans the parts).

  async pendingHours(from: Date, to: Date) {
    const r = await this.pool.query<{ hour: Date }>(
      'SELECT hour FROM rollup_pending WHERE hour >= $1 AND hour < $2 ORDER BY hour',
      [from, to],
    );
    return r.rows.map((row) => row.hour);
  }

  async clusterExists(clusterId: string) {
    return (await this.pool.query('SELECT 1 FROM clusters WHERE id = $1', [clusterId])).rowCount === 1;
  }

  async measureVms(
    filter: { tenantId: string } | { clusterId: string },
    parts: MeasureParts,
    from: Date,
    to: Date,
  ): Promise<VmPeriodTotals[]> {
    const params: unknown[] = ['tenantId' in filter ? filter.tenantId : filter.clusterId, from, to];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    // A pool is the VMs whose cluster it is now, their whole history; a tenant its rows' tenant
    // (deleted VMs included). Each rollup table has an index for either.
    const inScope = (alias: string) =>
      'tenantId' in filter ? `${alias}.tenant_id = $1` : `${alias}.vm_id IN (SELECT id FROM vms WHERE cluster_id = $1)`;
    // Constant ranges, OR-ed: the planner keeps only the sample partitions they touch.
    const ranges = (column: string, spans: Span[], lo: string, hi: string, cast: (ms: number) => unknown) =>
      spans.length
        ? `(${spans.map((s) => `(${column} ${lo} ${p(cast(s.fromMs))} AND ${column} ${hi} ${p(cast(s.toMs))})`).join(' OR ')})`
        : 'false';
    const asDate = (ms: number) => new Date(ms);
    const asDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const rawWhere = (alias: string) => ranges(`${alias}.at`, parts.raw, '>', '<=', asDate);
    const hourWhere = (alias: string) => ranges(`${alias}.hour`, parts.hours, '>=', '<', asDate);
    const dayWhere = (alias: string) => ranges(`${alias}.day`, parts.days, '>=', '<', asDay);
    const sums = `sum(disk_read_bytes) AS disk_read, sum(disk_write_bytes) AS disk_write,
         sum(net_in_internet_bytes) AS in_i, sum(net_out_internet_bytes) AS out_i,
         sum(net_in_datacenter_bytes) AS in_d, sum(net_out_datacenter_bytes) AS out_d`;
    const totals = await this.pool.query<Record<string, string | null>>(
      `WITH parts AS (
         SELECT s.vm_id, count(*)::numeric AS samples, sum(s.interval_s)::numeric AS seconds,
           sum(s.cpu_avg_mhz * s.interval_s) AS cpu, sum(s.mem_avg_mib * s.interval_s) AS mem,
           min(s.mem_min_mib) FILTER (WHERE s.mem_avg_mib > 0 OR s.cpu_avg_mhz > 0) AS mem_min, max(s.mem_max_mib) AS mem_max,
           sum(s.disk_allocated_gib * s.interval_s) AS disk,
           ${sums},
           -- As the rollups: a VM ran during a sample when it held memory or used CPU.
           coalesce(sum(s.interval_s) FILTER (WHERE s.mem_avg_mib > 0 OR s.cpu_avg_mhz > 0), 0)::numeric AS running,
           NULL::text AS name
         FROM vm_samples s WHERE ${inScope('s')} AND ${rawWhere('s')} GROUP BY s.vm_id
         UNION ALL
         SELECT u.vm_id, sum(u.samples), sum(u.seconds), sum(u.cpu_mhz_seconds), sum(u.mem_mib_seconds),
           min(u.mem_min_mib) FILTER (WHERE u.running_seconds > 0), max(u.mem_max_mib), sum(u.disk_gib_seconds), ${sums},
           -- Capped per hour at 3,600 s, as the daily rows are.
           sum(least(u.running_seconds, 3600)), max(u.vm_name)
         FROM vm_usage_hourly u WHERE ${inScope('u')} AND ${hourWhere('u')} GROUP BY u.vm_id
         UNION ALL
         SELECT d.vm_id, sum(d.samples), sum(d.seconds), sum(d.cpu_mhz_seconds), sum(d.mem_mib_seconds),
           min(d.mem_min_mib), max(d.mem_max_mib), sum(d.disk_gib_seconds), ${sums},
           sum(d.running_seconds), max(d.vm_name)
         FROM vm_usage_daily d WHERE ${inScope('d')} AND ${dayWhere('d')} GROUP BY d.vm_id),
       per_vm AS (
         SELECT vm_id, sum(samples) AS samples, sum(seconds) AS seconds, sum(cpu) AS cpu, sum(mem) AS mem,
           min(mem_min) AS mem_min, max(mem_max) AS mem_max, sum(disk) AS disk, sum(disk_read) AS disk_read,
           sum(disk_write) AS disk_write, sum(in_i) AS in_i, sum(out_i) AS out_i, sum(in_d) AS in_d,
           sum(out_d) AS out_d, sum(running) AS running, max(name) AS rolled_name
         FROM parts GROUP BY vm_id)
       SELECT t.vm_id, coalesce(v.name, nullif(t.rolled_name, ''), '') AS name, t.samples::text AS samples,
         t.seconds::text AS seconds, t.cpu::text AS cpu, t.mem::text AS mem, t.mem_min::text AS mem_min,
         t.mem_max::text AS mem_max, t.disk::text AS disk, t.disk_read::text AS disk_read,
         t.disk_write::text AS disk_write, t.in_i::text AS in_i, t.out_i::text AS out_i, t.in_d::text AS in_d,
         t.out_d::text AS out_d, t.running::text AS running,
         coalesce(last_sample.disk, last_hour.disk)::text AS last_disk
       FROM per_vm t
       LEFT JOIN vms v ON v.id = t.vm_id
       -- Disk at the end: the VM's last sample in the period, as Measure-VM (one index probe per VM)…
       LEFT JOIN LATERAL (SELECT s.disk_allocated_gib AS disk FROM vm_samples s
         WHERE s.vm_id = t.vm_id AND s.at > $2 AND s.at <= $3 ORDER BY s.at DESC LIMIT 1) last_sample ON true
       -- …or, once its samples are past retention, the average of its last rolled-up hour in the period.
       LEFT JOIN LATERAL (SELECT h.disk_gib_seconds / nullif(h.seconds, 0) AS disk FROM vm_usage_hourly h
         WHERE last_sample.disk IS NULL AND h.vm_id = t.vm_id AND h.hour > $2::timestamptz - interval '1 hour'
           AND h.hour < $3 ORDER BY h.hour DESC LIMIT 1) last_hour ON true`,
      params,
    );
    // The same parts of the per-ACL tables, in a statement of their own (rows without ACLs are unchanged).
    params.length = 1;
    const acls = await this.pool.query<{ vm_id: string; acl: string; in_b: string; out_b: string }>(
      `SELECT vm_id, acl, sum(in_b)::text AS in_b, sum(out_b)::text AS out_b FROM (
         SELECT a.vm_id, a.acl, sum(a.in_bytes) AS in_b, sum(a.out_bytes) AS out_b
         FROM vm_acl_samples a WHERE ${inScope('a')} AND ${rawWhere('a')} GROUP BY a.vm_id, a.acl
         UNION ALL
         SELECT u.vm_id, u.acl, sum(u.in_bytes), sum(u.out_bytes)
         FROM vm_acl_usage_hourly u WHERE ${inScope('u')} AND ${hourWhere('u')} GROUP BY u.vm_id, u.acl
         UNION ALL
         SELECT d.vm_id, d.acl, sum(d.in_bytes), sum(d.out_bytes)
         FROM vm_acl_usage_daily d WHERE ${inScope('d')} AND ${dayWhere('d')} GROUP BY d.vm_id, d.acl) x
       GROUP BY vm_id, acl ORDER BY acl COLLATE "C"`,
      params,
    );
    const aclsByVm = new Map<string, { acl: string; inBytes: number; outBytes: number }[]>();
    for (const a of acls.rows) {
      const list = aclsByVm.get(a.vm_id) ?? [];
      list.push({ acl: a.acl, inBytes: Number(a.in_b), outBytes: Number(a.out_b) });
      aclsByVm.set(a.vm_id, list);
    }
    return totals.rows.map((row) => {
      const n = (key: string) => Number(row[key] ?? 0);
      const maybe = (key: string) => (row[key] === null || row[key] === undefined ? null : Number(row[key]));
      const vmId = row.vm_id ?? '';
      return {
        vmId,
        name: row.name ?? '',
        samples: n('samples'),
        seconds: n('seconds'),
        cpuMhzSeconds: n('cpu'),
        memMibSeconds: n('mem'),
        memMinMiB: maybe('mem_min'),
        memMaxMiB: maybe('mem_max'),
        diskGibSeconds: n('disk'),
        lastDiskGiB: maybe('last_disk'),
        diskReadBytes: n('disk_read'),
        diskWriteBytes: n('disk_write'),
        netInInternet: n('in_i'),
        netOutInternet: n('out_i'),
        netInDatacenter: n('in_d'),
        netOutDatacenter: n('out_d'),
        runningSeconds: n('running'),
        acls: aclsByVm.get(vmId) ?? [],
      };
    });
  }
}

interface SeriesRow {
  start: Date;
  metered: string;
  cpu: string;
  mem: string;
  disk: string;
  net_in: string;
  net_out: string;
  running: string;
}

/** Sums leave Postgres as exact text; per bucket they stay far below 2^53, and charts need no more. */
function toBucketTotals(row: SeriesRow): BucketTotals {
  return {
    start: row.start,
    meteredSeconds: Number(row.metered),
    cpuMhzSeconds: Number(row.cpu),
    memMibSeconds: Number(row.mem),
    diskGibSeconds: Number(row.disk),
    networkInBytes: Number(row.net_in),
    networkOutBytes: Number(row.net_out),
    runningSeconds: Number(row.running),
  };
}
