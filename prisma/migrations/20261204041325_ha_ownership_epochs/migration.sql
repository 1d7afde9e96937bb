-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "ha_settings" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "hosts" ADD COLUMN     "fenced_at" TIMESTAMPTZ(3),
ADD COLUMN     "peer_seen_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "vms" ADD COLUMN     "owner_epoch" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "owner_epoch" INTEGER;

-- CreateTable
CREATE TABLE "ha_events" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "host_id" UUID NOT NULL,
    "host_name" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'detected',
    "diagnosis" TEXT NOT NULL DEFAULT 'unknown',
    "fence_method" TEXT NOT NULL,
    "last_heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL,
    "fenced_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "job_id" UUID,
    "timeline" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ha_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ha_restarts" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "vm_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "vm_name" TEXT NOT NULL,
    "priority" "HaPriority" NOT NULL,
    "from_host_id" UUID NOT NULL,
    "to_host_id" UUID,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL DEFAULT '',
    "from_epoch" INTEGER NOT NULL,
    "to_epoch" INTEGER,
    "last_heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "running_at" TIMESTAMPTZ(3),
    "rto_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ha_restarts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ha_events_cluster_id_created_at_idx" ON "ha_events"("cluster_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "ha_events_host_id_state_idx" ON "ha_events"("host_id", "state");

-- CreateIndex
CREATE INDEX "ha_restarts_state_idx" ON "ha_restarts"("state");

-- CreateIndex
CREATE INDEX "ha_restarts_vm_id_idx" ON "ha_restarts"("vm_id");

-- CreateIndex
CREATE INDEX "ha_restarts_tenant_id_idx" ON "ha_restarts"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "ha_restarts_event_id_vm_id_key" ON "ha_restarts"("event_id", "vm_id");

-- AddForeignKey
ALTER TABLE "ha_restarts" ADD CONSTRAINT "ha_restarts_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "ha_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One open failure event per host: two API processes (or a repeated monitor
-- pass) that both see a host fail start one recovery, not two.
CREATE UNIQUE INDEX "ha_events_one_open_per_host" ON "ha_events"("host_id")
  WHERE "state" NOT IN ('recovered', 'cancelled', 'failed');

-- ha_restarts carries tenant_id: the second wall of tenancy (docs/row-level-security.md).
ALTER TABLE "ha_restarts" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "ha_restarts" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "ha_restarts" FOR ALL TO PUBLIC
  USING ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))
  WITH CHECK ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()));
