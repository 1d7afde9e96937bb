// The chargeback data set, shared by the benchmarks that read it (chargeback,
// close): tenants, VMs, rate cards and plans, then hourly and daily rollups
// generated inside Postgres from a seed (generate_series and integer hashing,
// no random()), and one hour of raw samples. Kept in
// .data-bench/chargeback-<generator>-<seed>-<scale>/ (an embedded Postgres
// data directory) so a second run with the same seed and scale skips
// generation; an interrupted generation resumes day by day.
import path from 'node:path';
import pg from 'pg';

export interface ChargebackScale {
  seed: number;
  tenants: number;
  vms: number;
  days: number;
  /** An existing data directory to use instead of the one named by seed and scale. */
  dataDir?: string;
}

/** The data ends at 2026-11-01 00:00 UTC (exclusive): October is its last full month. */
export const CHARGEBACK_MONTH = { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' };

/** Where the data set of `scale` lives, its server settings, and `prepare` (generates what is missing). */
export function chargebackDataSet(scale: ChargebackScale) {
  const { seed: SEED, tenants: TENANTS, vms: VMS, days: DAYS } = scale;
  const DAY_MS = 86_400_000;
  /** The data ends at 2026-11-01 00:00 UTC (exclusive), so October is the report's month. */
  const END_MS = Date.UTC(2026, 10, 1);
  const START_MS = END_MS - DAYS * DAY_MS;
  const MONTH = CHARGEBACK_MONTH;
  /** The last hour of the data: its raw samples are generated too, and rolled up in the bench. */
  const LAST_HOUR = new Date(END_MS - 3_600_000);
  const dayIso = (d: number) => new Date(START_MS + d * DAY_MS).toISOString().slice(0, 10);

  /** Bump when the generator changes, so a data set cached by an older one is not reused as if it were this one's. */
  const GENERATOR = 3;
  const dataDir = path.resolve(
    scale.dataDir ??
      path.join(
        import.meta.dirname,
        '..',
        '..',
        '.data-bench',
        `chargeback-g${GENERATOR}-seed${SEED}-t${TENANTS}-v${VMS}-d${DAYS}`,
      ),
  );

  /** Server settings for a 2-core, 24 GiB machine (Postgres' defaults are sized for a toy). */
  const SETTINGS = {
    shared_buffers: '4GB',
    effective_cache_size: '16GB',
    work_mem: '256MB',
    maintenance_work_mem: '2GB',
    max_parallel_workers_per_gather: '2',
    max_parallel_maintenance_workers: '2',
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
  };

  const PRICES = {
    vcpuHour: '0.0125',
    memoryGiBHour: '0.005',
    diskGiBMonth: '0.10',
    networkOutGiB: { internet: '0.09', datacenter: '0.01' },
    networkInGiB: { internet: '0', datacenter: '0' },
    replicaStorageGiBMonth: '0.05',
  };

  const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
  const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

  async function stageDone(sql: pg.Pool, stage: string): Promise<boolean> {
    return (await sql.query('SELECT 1 FROM bench_stages WHERE stage = $1', [stage])).rowCount === 1;
  }
  async function markDone(sql: pg.Pool, stage: string) {
    await sql.query('INSERT INTO bench_stages (stage) VALUES ($1) ON CONFLICT DO NOTHING', [stage]);
  }

  /** Runs `work(day)` for every day not yet in `table`, on two connections (two cores), each day in one transaction. */
  async function perDay(
    sql: pg.Pool,
    table: string,
    label: string,
    work: (c: pg.PoolClient, d: number) => Promise<unknown>,
  ) {
    const done = new Set((await sql.query<{ d: number }>(`SELECT d FROM ${table}`)).rows.map((r) => r.d));
    const todo = Array.from({ length: DAYS }, (_, d) => d).filter((d) => !done.has(d));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      [0, 1].map(async () => {
        const client = await sql.connect();
        try {
          for (let d = todo[next++]; d !== undefined; d = todo[next++]) {
            await client.query('BEGIN');
            await work(client, d);
            await client.query(`INSERT INTO ${table} (d) VALUES ($1)`, [d]);
            await client.query('COMMIT');
            const finished = DAYS - todo.length + next;
            if (finished % 10 === 0) log(`${label}: ${finished}/${DAYS} days (${seconds(t0)})`);
          }
        } finally {
          client.release();
        }
      }),
    );
  }

  async function prepare(databaseUrl: string) {
    const sql = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    sql.on('error', () => {});
    try {
      await sql.query(`CREATE TABLE IF NOT EXISTS bench_stages (stage TEXT PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS bench_hourly_days (d INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS bench_daily_days (d INTEGER PRIMARY KEY)`);
      const t0 = performance.now();
      const fresh = !(await stageDone(sql, 'samples'));
      if (!(await stageDone(sql, 'base'))) {
        log(`generating ${TENANTS} tenants, ${VMS} VMs, rate cards and plans (seed ${SEED})`);
        const client = await sql.connect();
        try {
          await client.query('BEGIN');
          // Deterministic ids shaped like RFC 4122 version 4 (the API checks the shape).
          await client.query(
            `CREATE FUNCTION bench_uuid(seed TEXT) RETURNS UUID LANGUAGE sql IMMUTABLE AS $$
               SELECT overlay(overlay(md5(seed) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$`,
          );
          await client.query(
            // Customers since before the month billed (a tenant created later gets no bill for it).
            `INSERT INTO tenants (id, name, slug, created_at)
             SELECT bench_uuid($1::text || '-tenant-' || t), 'Tenant ' || lpad(t::text, 4, '0'), 'tenant-' || t, $3
             FROM generate_series(1, $2::int) AS t`,
            [SEED, TENANTS, new Date(START_MS - DAY_MS)],
          );
          // Tenant sizes are skewed (a few large, many small): tenant = ⌈T · u²⌉ for a hashed u in [0, 1).
          await client.query(
            `CREATE TABLE bench_vms AS
             SELECT i, bench_uuid($1::text || '-vm-' || i) AS id,
               bench_uuid($1::text || '-tenant-' || least($2::int, 1 + floor($2::int * power(((i::bigint * 2654435761) % 4294967296)
                 / 4294967296.0, 2))::int)) AS tenant_id,
               (1 << (i % 4)) AS vcpus, 1024 << (i % 5) AS mem_mib, 40 + (i % 20) * 20 AS disk_gib,
               'vm-' || lpad(i::text, 5, '0') AS name
             FROM generate_series(0, $3::int - 1) AS i`,
            [SEED, TENANTS, VMS],
          );
          await client.query('ALTER TABLE bench_vms ADD PRIMARY KEY (i)');
          await client.query(
            `INSERT INTO vms (id, tenant_id, name, state, vcpus, memory_mib, minimum_memory_mib, maximum_memory_mib,
               storage_bytes, updated_at)
             SELECT id, tenant_id, name, 'running', vcpus, mem_mib, mem_mib, mem_mib, disk_gib::bigint << 30, now()
             FROM bench_vms`,
          );
          // A card before the data and a change in the middle of October: the month has two segments.
          await client.query(
            `INSERT INTO rate_cards (id, currency, effective_from, prices, created_by) VALUES
               (md5('card-1')::uuid, 'USD', '2026-01-01', $1, 'bench'), (md5('card-2')::uuid, 'USD', '2026-10-16', $2, 'bench')`,
            [JSON.stringify(PRICES), JSON.stringify({ ...PRICES, vcpuHour: '0.0119', memoryGiBHour: '0.0048' })],
          );
          await client.query(
            `INSERT INTO tenant_plans (tenant_id, plan, updated_at)
             SELECT bench_uuid($1::text || '-tenant-' || t),
               CASE WHEN t % 20 = 0 THEN '{"kind":"override","prices":{"vcpu":"0.01"}}'::jsonb
                    ELSE '{"kind":"discount","percent":"7.5"}'::jsonb END, now()
             FROM generate_series(1, $2::int) AS t WHERE t % 10 = 0`,
            [SEED, TENANTS],
          );
          await client.query(`INSERT INTO bench_stages (stage) VALUES ('base')`);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }

      if (!(await stageDone(sql, 'hourly'))) {
        // Loading without indexes and building them once afterwards is several times faster.
        await sql.query(`ALTER TABLE vm_usage_hourly DROP CONSTRAINT IF EXISTS vm_usage_hourly_pkey;
          DROP INDEX IF EXISTS vm_usage_hourly_tenant_hour_idx; DROP INDEX IF EXISTS vm_usage_hourly_hour_brin`);
        log(`generating ${DAYS} days × ${VMS} VMs × 24 hourly rollups`);
        // Per VM and hour a hashed x in 0..999 drives the load: daytime CPU peaks, every 10th VM off
        // 40 % of its hours, every 50th VM idle (off) throughout.
        await perDay(sql, 'bench_hourly_days', 'hourly rollups', (c, d) =>
          c.query(
            `INSERT INTO vm_usage_hourly (vm_id, tenant_id, hour, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
               mem_min_mib, mem_max_mib, disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
               net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds, vcpus, vm_name)
             SELECT v.id, v.tenant_id, $1::timestamptz + h * interval '1 hour', 60, 3600,
               CASE WHEN o.up THEN (500 + 2 * r.x + CASE WHEN h BETWEEN 8 AND 18 THEN 800 ELSE 0 END) * 3600 + r.x * 0.001
                 ELSE 0 END,
               CASE WHEN o.up THEN v.mem_mib * (1000 + r.x) * 1.8 ELSE 0 END,
               CASE WHEN o.up THEN v.mem_mib / 2 ELSE 0 END, CASE WHEN o.up THEN v.mem_mib ELSE 0 END,
               v.disk_gib * 3600 + r.x * 0.0001,
               CASE WHEN o.up THEN r.x * 1048573 ELSE 0 END, CASE WHEN o.up THEN r.x * 2097143 ELSE 0 END,
               CASE WHEN o.up THEN r.x * 524287 ELSE 0 END, CASE WHEN o.up THEN r.x * r.x * 4099 ELSE 0 END,
               CASE WHEN o.up THEN r.x * 131071 ELSE 0 END, CASE WHEN o.up THEN r.x * 196611 ELSE 0 END,
               CASE WHEN o.up THEN 3600 ELSE 0 END, v.vcpus, v.name
             FROM bench_vms v CROSS JOIN generate_series(0, 23) AS h
             CROSS JOIN LATERAL (SELECT (v.i::bigint * 7919 + ($2::bigint * 24 + h) * 104729 + $3::bigint * 1000003)
               % 1000 AS x) r
             CROSS JOIN LATERAL (SELECT v.i % 50 <> 1 AND NOT (v.i % 10 = 0 AND r.x < 400) AS up) o`,
            [new Date(START_MS + d * DAY_MS), d, SEED],
          ),
        );
        let t = performance.now();
        log('building the hourly rollups’ indexes (as the migrations define them)');
        await sql.query('ALTER TABLE vm_usage_hourly ADD CONSTRAINT vm_usage_hourly_pkey PRIMARY KEY (vm_id, hour)');
        await sql.query('CREATE INDEX vm_usage_hourly_tenant_hour_idx ON vm_usage_hourly (tenant_id, hour)');
        await sql.query('CREATE INDEX vm_usage_hourly_hour_brin ON vm_usage_hourly USING BRIN (hour)');
        log(`indexes built in ${seconds(t)}`);
        t = performance.now();
        await sql.query('VACUUM ANALYZE vm_usage_hourly');
        log(`hourly rollups vacuumed and analysed in ${seconds(t)}`);
        await markDone(sql, 'hourly');
      }

      if (!(await stageDone(sql, 'daily'))) {
        log('daily rollups through rollup_vm_usage_days (the rollup code’s own function), one day at a time');
        await perDay(sql, 'bench_daily_days', 'daily rollups', (c, d) =>
          c.query('SELECT rollup_vm_usage_days(ARRAY[$1::date])', [dayIso(d)]),
        );
        const t = performance.now();
        await sql.query('VACUUM ANALYZE vm_usage_daily');
        log(`daily rollups vacuumed and analysed in ${seconds(t)}`);
        await markDone(sql, 'daily');
      }

      if (!(await stageDone(sql, 'samples'))) {
        log(`generating one hour of raw samples (${VMS} VMs × 60 one-minute samples)`);
        const day = new Date(LAST_HOUR.getTime() - (LAST_HOUR.getTime() % DAY_MS));
        await sql.query('SELECT ensure_vm_sample_partitions($1::date, 2)', [day.toISOString().slice(0, 10)]);
        await sql.query(
          `INSERT INTO vm_samples (vm_id, tenant_id, host_id, at, interval_s, cpu_avg_mhz, mem_avg_mib, mem_min_mib,
             mem_max_mib, disk_allocated_gib, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
             net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes)
           SELECT v.id, v.tenant_id, md5('bench-host-' || (v.i / 40))::uuid, $1::timestamptz + m * interval '1 minute', 60,
             CASE WHEN o.up THEN 500 + 2 * r.x + r.x * 0.001 ELSE 0 END, CASE WHEN o.up THEN v.mem_mib * 0.75 ELSE 0 END,
             CASE WHEN o.up THEN v.mem_mib / 2 ELSE 0 END, CASE WHEN o.up THEN v.mem_mib ELSE 0 END, v.disk_gib,
             r.x * 17477, r.x * 34953, r.x * 8737, r.x * 69905, r.x * 2185, r.x * 3277
           FROM bench_vms v CROSS JOIN generate_series(1, 60) AS m
           CROSS JOIN LATERAL (SELECT (v.i::bigint * 7919 + m * 104729 + $2::bigint * 1000003) % 1000 AS x) r
           CROSS JOIN LATERAL (SELECT v.i % 50 <> 1 AS up) o
           ON CONFLICT DO NOTHING`,
          [LAST_HOUR, SEED],
        );
        await sql.query('ANALYZE vm_samples');
        await markDone(sql, 'samples');
      }
      if (fresh) {
        await sql.query('CHECKPOINT'); // the load's WAL is recycled rather than kept in the data directory
        log(`data set ready in ${seconds(t0)}`);
      } else log(`data set reused from ${dataDir}`);
    } finally {
      await sql.end();
    }
  }

  return { dataDir, settings: SETTINGS, prepare, month: MONTH, lastHour: LAST_HOUR };
}
