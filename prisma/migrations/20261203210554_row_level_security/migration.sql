-- Hand-written: Postgres row-level security, the second wall of tenancy
-- (docs/row-level-security.md). Core scopes every query by the caller's
-- tenant; these policies make the database refuse another tenant's rows even
-- when a query forgets to.
--
-- The API connects as `fabric_app`, a role that owns no table (so the
-- policies apply to it); migrations, DBOS and the tests' assertions connect as
-- the owner. Which rows `fabric_app` sees is the setting `fabric.tenant_id`:
--   '*'            every tenant: provider, finance, agents, background work
--                  (the API sets it when it opens a connection);
--   a tenant's id  that tenant only (set for the length of one transaction
--                  by every query of a tenant's request);
--   unset or ''    nothing: a connection that never said who it works for
--                  sees no tenant's rows (fail closed).

-- Roles belong to the server, not the database: created once, reused by every
-- database on it (the tests' clones, a second Fabric on the same server).
-- An owner without CREATEROLE (some managed services) needs the role created
-- by an administrator first; then this block only grants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fabric_app') THEN
    CREATE ROLE "fabric_app" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  -- The owner switches to it on each API connection (`options=-c role=fabric_app`):
  -- a superuser may anyway; another owner needs the membership.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT "fabric_app" TO %I', current_user);
    -- A non-superuser owner is bound by the policies too (FORCE below): its own
    -- sessions (migrations, seeds, the workflow engine, psql) see every tenant.
    EXECUTE format('ALTER ROLE %I SET "fabric.tenant_id" = ''*''', current_user);
  END IF;
END;
$$;
-- And so does the rest of this session (later migrations of the same run).
SELECT set_config('fabric.tenant_id', '*', false);

-- The tenant this transaction works for; NULL for '*', '' and unset. STABLE:
-- evaluated once per statement, so `tenant_id = fabric_current_tenant()` uses
-- the tenant_id indexes.
CREATE FUNCTION "fabric_current_tenant"() RETURNS UUID
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN s IS NULL OR s IN ('', '*') THEN NULL ELSE s::uuid END
  FROM (SELECT current_setting('fabric.tenant_id', true) AS s) setting
$$;

CREATE FUNCTION "fabric_all_tenants"() RETURNS BOOLEAN
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('fabric.tenant_id', true) = '*', false)
$$;

-- Privileges: the app reads and writes rows, nothing else (no DDL, owns nothing).
GRANT USAGE ON SCHEMA "public" TO "fabric_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "fabric_app";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "public" TO "fabric_app";
-- Tables of later migrations (always run as the owner) are granted the same.
ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "fabric_app";
ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "fabric_app";
-- Migrations are the owner's business.
REVOKE ALL ON "_prisma_migrations" FROM "fabric_app";
-- A partition read directly would skip its parent's policies: the app reaches
-- samples through the partitioned parents only.
REVOKE ALL ON "vm_samples_default", "vm_acl_samples_default" FROM "fabric_app";
DO $$
DECLARE
  r RECORD;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('vm_samples', 'vm_acl_samples')
  LOOP
    EXECUTE format('REVOKE ALL ON %I FROM "fabric_app"', r.relname);
  END LOOP;
END;
$$;

-- Tables with a tenant_id: a row is visible, and may be written, only when it
-- belongs to the transaction's tenant, or when the transaction sees all. The
-- settings are read in sub-selects: evaluated once per statement (an InitPlan),
-- not once per row, which matters to the rollups' scans of millions of samples.
-- FORCE: the policies hold for the owner too when it is not a superuser
-- (a superuser, such as the embedded server's `fabric`, bypasses them).
DO $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'memberships', 'audit_events', 'tenant_quotas', 'vms', 'placement_decisions', 'tasks', 'tenant_plans',
    'invoices', 'jobs', 'vm_samples', 'vm_usage_hourly', 'vm_usage_daily', 'vm_acl_samples',
    'vm_acl_usage_hourly', 'vm_acl_usage_daily'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY "tenant_isolation" ON %I FOR ALL TO PUBLIC
         USING ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))
         WITH CHECK ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))', t);
  END LOOP;
END;
$$;

-- A tenant sees its own tenant row only.
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "tenants" FOR ALL TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()) OR "id" = (SELECT "fabric_current_tenant"()))
  WITH CHECK ((SELECT "fabric_all_tenants"()) OR "id" = (SELECT "fabric_current_tenant"()));

-- A VM's disks and NICs carry no tenant_id: they are visible through their VM,
-- whose own policy decides (the subquery is filtered by it).
ALTER TABLE "vm_disks" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "vm_disks" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "vm_disks" FOR ALL TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()) OR EXISTS (SELECT 1 FROM "vms" v WHERE v."id" = "vm_disks"."vm_id"))
  WITH CHECK ((SELECT "fabric_all_tenants"()) OR EXISTS (SELECT 1 FROM "vms" v WHERE v."id" = "vm_disks"."vm_id"));
ALTER TABLE "vm_nics" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "vm_nics" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "vm_nics" FOR ALL TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()) OR EXISTS (SELECT 1 FROM "vms" v WHERE v."id" = "vm_nics"."vm_id"))
  WITH CHECK ((SELECT "fabric_all_tenants"()) OR EXISTS (SELECT 1 FROM "vms" v WHERE v."id" = "vm_nics"."vm_id"));

-- Partition upkeep is DDL on tables the app does not own: it runs with the
-- owner's rights (SECURITY DEFINER, fixed search_path) and nothing more. Same
-- body as before, plus: a new partition is not granted to the app.
CREATE OR REPLACE FUNCTION "ensure_vm_sample_partitions"("from_day" DATE, "days" INTEGER) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
        EXECUTE format('REVOKE ALL ON %I FROM "fabric_app"', name);
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
REVOKE ALL ON FUNCTION "ensure_vm_sample_partitions"(DATE, INTEGER) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "ensure_vm_sample_partitions"(DATE, INTEGER) TO "fabric_app";

-- Retention: drops the daily partitions of vm_samples and vm_acl_samples
-- before `cutoff`; returns how many days of vm_samples it dropped.
CREATE FUNCTION "drop_vm_sample_partitions_before"("cutoff" DATE) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r RECORD;
  dropped INTEGER := 0;
BEGIN
  FOR r IN SELECT c.relname AS name, p.relname AS parent FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('vm_samples', 'vm_acl_samples') AND c.relname ~ '^vm_(acl_)?samples_[0-9]{8}$'
      AND to_date(right(c.relname, 8), 'YYYYMMDD') < "cutoff"
  LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I', r.name);
    IF r.parent = 'vm_samples' THEN
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END;
$$;
REVOKE ALL ON FUNCTION "drop_vm_sample_partitions_before"(DATE) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "drop_vm_sample_partitions_before"(DATE) TO "fabric_app";
