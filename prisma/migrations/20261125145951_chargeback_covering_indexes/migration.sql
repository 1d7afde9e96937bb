-- Hand-written (no Prisma model change): one tenant's bill reads its whole
-- days by (tenant_id, day). Through the plain (tenant_id, day) index those
-- rows are scattered over the heap (a day's rows for every VM are written
-- together), so the largest tenant's month (1,790 VMs, ~55 k daily rows) read
-- ~40 k heap pages; the planner even preferred the day index and filtered out
-- the other tenants. These indexes carry the columns the bill sums, so the read
-- is an index-only scan of the tenant's contiguous entries (all-visible pages,
-- i.e. vacuumed ones; the current day's rows are fetched from the heap).
-- They replace the plain (tenant_id, day) indexes, which they cover.
--
-- Write cost: every daily upsert writes a wider index entry (~140 bytes
-- instead of ~30: ~500 MB instead of ~50 MB at 3.6 M rows). HOT updates are
-- lost for rows whose counters change, but the rollup's upserts were not HOT
-- before either (a full page, fillfactor 100). The columns must stay in step
-- with PrismaChargebackRepository.sumParts / sumAclParts.
CREATE INDEX "vm_usage_daily_tenant_day_covering_idx" ON "vm_usage_daily" ("tenant_id", "day")
  INCLUDE ("vm_id", "vcpu_seconds", "mem_mib_seconds", "disk_gib_seconds", "net_in_internet_bytes",
    "net_out_internet_bytes", "net_in_datacenter_bytes", "net_out_datacenter_bytes");
DROP INDEX "vm_usage_daily_tenant_day_idx";

CREATE INDEX "vm_acl_usage_daily_tenant_day_covering_idx" ON "vm_acl_usage_daily" ("tenant_id", "day")
  INCLUDE ("vm_id", "acl", "in_bytes", "out_bytes");
DROP INDEX "vm_acl_usage_daily_tenant_day_idx";
