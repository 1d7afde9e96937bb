-- AlterTable
ALTER TABLE "vms" ADD COLUMN     "metering_since" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Hand-written: metering storage, bulk-written with SQL.

-- One row per VM per interval, as agents report them (Measure-VM's metrics).
-- Numeric, not float: sums over any order give the same exact totals, so a
-- bill computed twice is the same to the cent. Partitioned by day (created
-- ahead by the API, dropped by retention); the primary key makes a resent
-- sample a no-op.
CREATE TABLE "vm_samples" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "host_id" UUID NOT NULL,
  "at" TIMESTAMPTZ(3) NOT NULL,
  "interval_s" INTEGER NOT NULL CHECK ("interval_s" > 0),
  "cpu_avg_mhz" NUMERIC(14, 3) NOT NULL,
  "mem_avg_mib" NUMERIC(14, 3) NOT NULL,
  "mem_min_mib" NUMERIC(14, 3) NOT NULL,
  "mem_max_mib" NUMERIC(14, 3) NOT NULL,
  "disk_allocated_gib" NUMERIC(16, 4) NOT NULL,
  "disk_read_bytes" BIGINT NOT NULL,
  "disk_write_bytes" BIGINT NOT NULL,
  "net_in_internet_bytes" BIGINT NOT NULL,
  "net_out_internet_bytes" BIGINT NOT NULL,
  "net_in_datacenter_bytes" BIGINT NOT NULL,
  "net_out_datacenter_bytes" BIGINT NOT NULL,
  PRIMARY KEY ("vm_id", "at")
) PARTITION BY RANGE ("at");
CREATE TABLE "vm_samples_default" PARTITION OF "vm_samples" DEFAULT;

-- Hourly rollups: time-weighted sums (MHz·s, MiB·s, GiB·s) so any period's
-- average is sum / seconds, exactly. Recomputed whole from raw samples, so a
-- rollup run twice (or after a crash) writes the same rows.
CREATE TABLE "vm_usage_hourly" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "hour" TIMESTAMPTZ(3) NOT NULL,
  "samples" INTEGER NOT NULL,
  "seconds" BIGINT NOT NULL,
  "cpu_mhz_seconds" NUMERIC(24, 3) NOT NULL,
  "mem_mib_seconds" NUMERIC(24, 3) NOT NULL,
  "mem_min_mib" NUMERIC(14, 3) NOT NULL,
  "mem_max_mib" NUMERIC(14, 3) NOT NULL,
  "disk_gib_seconds" NUMERIC(26, 4) NOT NULL,
  "disk_read_bytes" NUMERIC(24, 0) NOT NULL,
  "disk_write_bytes" NUMERIC(24, 0) NOT NULL,
  "net_in_internet_bytes" NUMERIC(24, 0) NOT NULL,
  "net_out_internet_bytes" NUMERIC(24, 0) NOT NULL,
  "net_in_datacenter_bytes" NUMERIC(24, 0) NOT NULL,
  "net_out_datacenter_bytes" NUMERIC(24, 0) NOT NULL,
  PRIMARY KEY ("vm_id", "hour")
);
CREATE INDEX "vm_usage_hourly_tenant_hour_idx" ON "vm_usage_hourly" ("tenant_id", "hour");

-- Hours whose samples changed since their last rollup (late samples included).
CREATE TABLE "rollup_pending" ("hour" TIMESTAMPTZ(3) PRIMARY KEY);

-- Daily (UTC) partitions of vm_samples from `from_day` for `days` days; existing ones are kept.
CREATE FUNCTION "ensure_vm_sample_partitions"("from_day" DATE, "days" INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
  d DATE;
  created INTEGER := 0;
  name TEXT;
BEGIN
  FOR i IN 0 .. "days" - 1 LOOP
    d := "from_day" + i;
    name := 'vm_samples_' || to_char(d, 'YYYYMMDD');
    IF to_regclass(name) IS NULL THEN
      -- Rows for this day that landed in the default partition move into the new one.
      EXECUTE format('CREATE TABLE %I (LIKE vm_samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
      EXECUTE format('WITH moved AS (DELETE FROM vm_samples_default WHERE at >= %L AND at < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
        d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', name);
      EXECUTE format('ALTER TABLE vm_samples ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        name, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END;
$$;
