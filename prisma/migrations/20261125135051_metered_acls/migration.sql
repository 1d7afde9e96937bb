-- CreateTable
CREATE TABLE "metered_address_classes" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "remote_addresses" TEXT[],
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metered_address_classes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "metered_address_classes_name_key" ON "metered_address_classes"("name");

-- Hand-written: per-ACL network bytes (metered port ACLs), beside the fixed
-- internet / datacenter counters of vm_samples and its rollups. A sample
-- without ACLs writes nothing here, so everything that existed before reads
-- and bills exactly as it did.

-- One row per VM, interval and metered ACL, written in the same transaction
-- as the sample's vm_samples row and only when that row is new (a resent
-- sample changes nothing). Partitioned by day like vm_samples and created,
-- moved and dropped with it (ensure_vm_sample_partitions below; the
-- repository's retention drops both). `acl` is a metered_address_classes
-- name: a class with usage cannot be removed, so names here stay defined.
CREATE TABLE "vm_acl_samples" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "at" TIMESTAMPTZ(3) NOT NULL,
  "acl" TEXT NOT NULL,
  "in_bytes" BIGINT NOT NULL CHECK ("in_bytes" >= 0),
  "out_bytes" BIGINT NOT NULL CHECK ("out_bytes" >= 0),
  PRIMARY KEY ("vm_id", "at", "acl")
) PARTITION BY RANGE ("at");
CREATE TABLE "vm_acl_samples_default" PARTITION OF "vm_acl_samples" DEFAULT;

-- Hourly and daily per-ACL rollups: exact numeric sums, recomputed whole
-- (hour from raw samples, day from the hours) in the same transaction as
-- vm_usage_hourly / vm_usage_daily, so running one twice gives the same rows.
CREATE TABLE "vm_acl_usage_hourly" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "hour" TIMESTAMPTZ(3) NOT NULL,
  "acl" TEXT NOT NULL,
  "in_bytes" NUMERIC(24, 0) NOT NULL,
  "out_bytes" NUMERIC(24, 0) NOT NULL,
  PRIMARY KEY ("vm_id", "hour", "acl")
);
CREATE INDEX "vm_acl_usage_hourly_tenant_hour_idx" ON "vm_acl_usage_hourly" ("tenant_id", "hour");
CREATE INDEX "vm_acl_usage_hourly_hour_brin" ON "vm_acl_usage_hourly" USING BRIN ("hour");
-- "Has this class any usage?" (a class with usage cannot be removed).
CREATE INDEX "vm_acl_usage_hourly_acl_idx" ON "vm_acl_usage_hourly" ("acl");

CREATE TABLE "vm_acl_usage_daily" (
  "vm_id" UUID NOT NULL,
  "tenant_id" UUID NOT NULL,
  "day" DATE NOT NULL,
  "acl" TEXT NOT NULL,
  "in_bytes" NUMERIC(26, 0) NOT NULL,
  "out_bytes" NUMERIC(26, 0) NOT NULL,
  PRIMARY KEY ("vm_id", "day", "acl")
);
CREATE INDEX "vm_acl_usage_daily_tenant_day_idx" ON "vm_acl_usage_daily" ("tenant_id", "day");
CREATE INDEX "vm_acl_usage_daily_day_idx" ON "vm_acl_usage_daily" ("day");

-- The one definition of a day's per-ACL rollup, the twin of rollup_vm_usage_days
-- (the API's rollups call both in one transaction).
CREATE FUNCTION "rollup_vm_acl_usage_days"("days" DATE[]) RETURNS INTEGER
LANGUAGE sql AS $$
  WITH written AS (
    INSERT INTO vm_acl_usage_daily (vm_id, tenant_id, day, acl, in_bytes, out_bytes)
    SELECT u.vm_id, u.tenant_id, d.day, u.acl, sum(u.in_bytes), sum(u.out_bytes)
    FROM (SELECT DISTINCT unnest("days") AS day) d
    JOIN vm_acl_usage_hourly u ON u.hour >= d.day::timestamp AT TIME ZONE 'UTC'
      AND u.hour < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY u.vm_id, u.tenant_id, d.day, u.acl
    -- Hourly rows are never deleted, so every (VM, day, ACL) row written before is written again here.
    ON CONFLICT (vm_id, day, acl) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, in_bytes = EXCLUDED.in_bytes,
      out_bytes = EXCLUDED.out_bytes
    RETURNING 1
  )
  SELECT count(*)::integer FROM written
$$;

-- Daily partitions of vm_samples and, from now on, of vm_acl_samples, for the
-- same days. Same signature and result as before (vm_samples partitions
-- created), so callers are unchanged; days whose vm_samples partition exists
-- already get their vm_acl_samples one on the next call.
CREATE OR REPLACE FUNCTION "ensure_vm_sample_partitions"("from_day" DATE, "days" INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
  d DATE;
  created INTEGER := 0;
  parent TEXT;
  name TEXT;
BEGIN
  FOR i IN 0 .. "days" - 1 LOOP
    d := "from_day" + i;
    FOREACH parent IN ARRAY ARRAY['vm_samples', 'vm_acl_samples'] LOOP
      name := parent || '_' || to_char(d, 'YYYYMMDD');
      IF to_regclass(name) IS NULL THEN
        -- Rows for this day that landed in the default partition move into the new one.
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE at >= %L AND at < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
          parent || '_default', d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', name);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
          parent, name, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        IF parent = 'vm_samples' THEN
          created := created + 1;
        END IF;
      END IF;
    END LOOP;
  END LOOP;
  RETURN created;
END;
$$;

-- ACL partitions for the days that already have vm_samples partitions.
DO $$
DECLARE
  r RECORD;
BEGIN
  FOR r IN SELECT to_date(right(c.relname, 8), 'YYYYMMDD') AS day FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'vm_samples' AND c.relname ~ '^vm_samples_[0-9]{8}$'
  LOOP
    PERFORM "ensure_vm_sample_partitions"(r.day, 1);
  END LOOP;
END;
$$;
