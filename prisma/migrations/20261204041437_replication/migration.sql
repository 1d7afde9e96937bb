-- CreateTable
CREATE TABLE "replication_relationships" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "vm_id" UUID NOT NULL,
    "vm_name" TEXT NOT NULL,
    "primary_cluster_id" UUID NOT NULL,
    "primary_host_id" UUID NOT NULL,
    "target_kind" TEXT NOT NULL,
    "replica_cluster_id" UUID NOT NULL,
    "replica_host_id" UUID NOT NULL,
    "storage_pool" TEXT NOT NULL,
    "frequency_seconds" INTEGER NOT NULL,
    "additional_points" INTEGER NOT NULL,
    "app_consistent_hours" INTEGER,
    "initial_mode" TEXT NOT NULL,
    "initial_at" TIMESTAMPTZ(3),
    "compression" BOOLEAN NOT NULL DEFAULT true,
    "state" TEXT NOT NULL DEFAULT 'initial-pending',
    "state_reason" TEXT NOT NULL DEFAULT '',
    "health" TEXT NOT NULL DEFAULT 'normal',
    "health_due_at" TIMESTAMPTZ(3),
    "generation" INTEGER NOT NULL DEFAULT 1,
    "failover_point_id" UUID,
    "test_vm_id" UUID,
    "next_cycle_seq" BIGINT NOT NULL DEFAULT 1,
    "next_due_at" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "last_point_at" TIMESTAMPTZ(3),
    "last_app_consistent_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "replication_relationships_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replication_points" (
    "id" UUID NOT NULL,
    "relationship_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "generation" INTEGER NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'standard',
    "checksums" JSONB NOT NULL DEFAULT '[]',
    "size_bytes" BIGINT NOT NULL,
    "guest_write_seq" BIGINT,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "replication_points_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replication_cycles" (
    "id" UUID NOT NULL,
    "relationship_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "generation" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "mode" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'running',
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    "lateness_ms" INTEGER NOT NULL DEFAULT 0,
    "duration_ms" INTEGER,
    "bytes_sent" BIGINT NOT NULL DEFAULT 0,
    "bytes_logical" BIGINT NOT NULL DEFAULT 0,
    "point_id" UUID,
    "checksums" JSONB NOT NULL DEFAULT '[]',
    "error_code" TEXT,
    "error_message" TEXT,

    CONSTRAINT "replication_cycles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replica_authorizations" (
    "id" UUID NOT NULL,
    "replica_cluster_id" UUID NOT NULL,
    "replica_host_id" UUID,
    "tenant_id" UUID,
    "primary_cluster_id" UUID,
    "storage_pool" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "replica_authorizations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "replication_relationships_vm_id_key" ON "replication_relationships"("vm_id");

-- CreateIndex
CREATE INDEX "replication_relationships_tenant_id_idx" ON "replication_relationships"("tenant_id");

-- CreateIndex
CREATE INDEX "replication_relationships_state_idx" ON "replication_relationships"("state");

-- CreateIndex
CREATE INDEX "replication_relationships_next_due_at_idx" ON "replication_relationships"("next_due_at");

-- CreateIndex
CREATE INDEX "replication_relationships_health_due_at_idx" ON "replication_relationships"("health_due_at");

-- CreateIndex
CREATE INDEX "replication_relationships_last_success_at_idx" ON "replication_relationships"("last_success_at");

-- CreateIndex
CREATE INDEX "replication_relationships_replica_host_id_idx" ON "replication_relationships"("replica_host_id");

-- CreateIndex
CREATE INDEX "replication_relationships_primary_host_id_idx" ON "replication_relationships"("primary_host_id");

-- CreateIndex
CREATE INDEX "replication_points_relationship_id_taken_at_idx" ON "replication_points"("relationship_id", "taken_at" DESC);

-- CreateIndex
CREATE INDEX "replication_points_tenant_id_idx" ON "replication_points"("tenant_id");

-- CreateIndex
CREATE INDEX "replication_cycles_relationship_id_started_at_idx" ON "replication_cycles"("relationship_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "replication_cycles_tenant_id_started_at_idx" ON "replication_cycles"("tenant_id", "started_at");

-- CreateIndex
CREATE INDEX "replication_cycles_started_at_idx" ON "replication_cycles"("started_at");

-- CreateIndex
CREATE UNIQUE INDEX "replication_cycles_relationship_id_generation_seq_key" ON "replication_cycles"("relationship_id", "generation", "seq");

-- CreateIndex
CREATE INDEX "replica_authorizations_replica_cluster_id_idx" ON "replica_authorizations"("replica_cluster_id");

-- CreateIndex
CREATE INDEX "replica_authorizations_tenant_id_idx" ON "replica_authorizations"("tenant_id");

-- AddForeignKey
ALTER TABLE "replication_points" ADD CONSTRAINT "replication_points_relationship_id_fkey" FOREIGN KEY ("relationship_id") REFERENCES "replication_relationships"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "replication_cycles" ADD CONSTRAINT "replication_cycles_relationship_id_fkey" FOREIGN KEY ("relationship_id") REFERENCES "replication_relationships"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security (docs/row-level-security.md): relationships, points and
-- cycles belong to the VM's tenant.
DO $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['replication_relationships', 'replication_points', 'replication_cycles'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY "tenant_isolation" ON %I FOR ALL TO PUBLIC
         USING ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))
         WITH CHECK ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))', t);
  END LOOP;
END;
$$;

-- Authorizations are the provider's: a tenant reads those for itself or for
-- every tenant (the targets it is offered) and writes none.
ALTER TABLE "replica_authorizations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "replica_authorizations" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_read" ON "replica_authorizations" FOR SELECT TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()) OR "tenant_id" IS NULL OR "tenant_id" = (SELECT "fabric_current_tenant"()));
CREATE POLICY "provider_write" ON "replica_authorizations" FOR ALL TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()))
  WITH CHECK ((SELECT "fabric_all_tenants"()));
