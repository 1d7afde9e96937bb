-- Hand-written (no Prisma model): daily rollups, one row per VM per UTC day,
-- recomputed whole from vm_usage_hourly whenever one of its hours is rolled
-- up, so a rollup run twice, after a crash or after late samples gives the
-- same rows. Exact numeric sums of the hourly counters (a day of 24 hours
-- needs two more digits than an hour), plus what a bill needs: running
-- seconds and vCPU-seconds (vcpus × running seconds of each hour, summed, so
-- a VM resized during the day is billed hour by hour), the VM's name at the
-- latest hour of the day and its tenant. A bill reads whole days from here
-- and the partial days at a period's edges from vm_usage_hourly.
CREATE TABLE "vm_usage_daily" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "day" DATE NOT NULL,
  "hours" INTEGER NOT NULL,
  "samples" BIGINT NOT NULL,
  "seconds" BIGINT NOT NULL,
  "cpu_mhz_seconds" NUMERIC(26, 3) NOT NULL,
  "mem_mib_seconds" NUMERIC(26, 3) NOT NULL,
  "mem_min_mib" NUMERIC(14, 3) NOT NULL,
  "mem_max_mib" NUMERIC(14, 3) NOT NULL,
  "disk_gib_seconds" NUMERIC(28, 4) NOT NULL,
  "disk_read_bytes" NUMERIC(26, 0) NOT NULL,
  "disk_write_bytes" NUMERIC(26, 0) NOT NULL,
  "net_in_internet_bytes" NUMERIC(26, 0) NOT NULL,
  "net_out_internet_bytes" NUMERIC(26, 0) NOT NULL,
  "net_in_datacenter_bytes" NUMERIC(26, 0) NOT NULL,
  "net_out_datacenter_bytes" NUMERIC(26, 0) NOT NULL,
  -- Per hour capped at 3600 s, as billed from the hourly rows.
  "running_seconds" BIGINT NOT NULL,
  "vcpu_seconds" BIGINT NOT NULL,
  "vm_name" TEXT NOT NULL,
  PRIMARY KEY ("vm_id", "day")
);
-- One tenant's days (its bill) and one period's days for all tenants (the report).
CREATE INDEX "vm_usage_daily_tenant_day_idx" ON "vm_usage_daily" ("tenant_id", "day");
CREATE INDEX "vm_usage_daily_day_idx" ON "vm_usage_daily" ("day");
-- Hourly rows are written hour by hour, so a BRIN index finds a day's (or a
-- period edge's) rows for all VMs at almost no write cost.
CREATE INDEX "vm_usage_hourly_hour_brin" ON "vm_usage_hourly" USING BRIN ("hour");

-- The one definition of a day's rollup (the API's rollups and this backfill
-- call it): recomputes the given UTC days whole from vm_usage_hourly.
CREATE FUNCTION "rollup_vm_usage_days"("days" DATE[]) RETURNS INTEGER
LANGUAGE sql AS $$
  WITH written AS (
    INSERT INTO vm_usage_daily (vm_id, tenant_id, day, hours, samples, seconds, cpu_mhz_seconds, mem_mib_seconds,
      mem_min_mib, mem_max_mib, disk_gib_seconds, disk_read_bytes, disk_write_bytes, net_in_internet_bytes,
      net_out_internet_bytes, net_in_datacenter_bytes, net_out_datacenter_bytes, running_seconds, vcpu_seconds, vm_name)
    SELECT u.vm_id, u.tenant_id, d.day, count(*), sum(u.samples), sum(u.seconds), sum(u.cpu_mhz_seconds),
      sum(u.mem_mib_seconds), min(u.mem_min_mib), max(u.mem_max_mib), sum(u.disk_gib_seconds),
      sum(u.disk_read_bytes), sum(u.disk_write_bytes), sum(u.net_in_internet_bytes), sum(u.net_out_internet_bytes),
      sum(u.net_in_datacenter_bytes), sum(u.net_out_datacenter_bytes), sum(least(u.running_seconds, 3600)),
      sum(u.vcpus::bigint * least(u.running_seconds, 3600)), (array_agg(u.vm_name ORDER BY u.hour DESC))[1]
    FROM (SELECT DISTINCT unnest("days") AS day) d
    JOIN vm_usage_hourly u ON u.hour >= d.day::timestamp AT TIME ZONE 'UTC'
      AND u.hour < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY u.vm_id, u.tenant_id, d.day
    -- Hourly rows are never deleted, so every (VM, day) row written before is written again here.
    ON CONFLICT (vm_id, day) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, hours = EXCLUDED.hours,
      samples = EXCLUDED.samples, seconds = EXCLUDED.seconds, cpu_mhz_seconds = EXCLUDED.cpu_mhz_seconds,
      mem_mib_seconds = EXCLUDED.mem_mib_seconds, mem_min_mib = EXCLUDED.mem_min_mib,
      mem_max_mib = EXCLUDED.mem_max_mib, disk_gib_seconds = EXCLUDED.disk_gib_seconds,
      disk_read_bytes = EXCLUDED.disk_read_bytes, disk_write_bytes = EXCLUDED.disk_write_bytes,
      net_in_internet_bytes = EXCLUDED.net_in_internet_bytes, net_out_internet_bytes = EXCLUDED.net_out_internet_bytes,
      net_in_datacenter_bytes = EXCLUDED.net_in_datacenter_bytes,
      net_out_datacenter_bytes = EXCLUDED.net_out_datacenter_bytes, running_seconds = EXCLUDED.running_seconds,
      vcpu_seconds = EXCLUDED.vcpu_seconds, vm_name = EXCLUDED.vm_name
    RETURNING 1
  )
  SELECT count(*)::integer FROM written
$$;

-- Backfill: every day that has hourly rows.
SELECT "rollup_vm_usage_days"(coalesce(array_agg(DISTINCT ("hour" AT TIME ZONE 'UTC')::date), '{}'))
FROM "vm_usage_hourly";
