-- CreateEnum
CREATE TYPE "VmState" AS ENUM ('creating', 'off', 'starting', 'running', 'paused', 'saved', 'stopping', 'failed', 'deleting');

-- CreateEnum
CREATE TYPE "HaPriority" AS ENUM ('high', 'medium', 'low', 'off');

-- CreateEnum
CREATE TYPE "TaskState" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateEnum
CREATE TYPE "PlacementPolicy" AS ENUM ('balance', 'pack');

-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "cpu_overcommit_ratio" DECIMAL(5,2) NOT NULL DEFAULT 4.0,
ADD COLUMN     "placement_policy" "PlacementPolicy" NOT NULL DEFAULT 'balance';

-- AlterTable
ALTER TABLE "hosts" ADD COLUMN     "dedicated_tenant_id" UUID,
ADD COLUMN     "reserved_memory_mib" INTEGER NOT NULL DEFAULT 2048;

-- CreateTable
CREATE TABLE "tenant_quotas" (
    "tenant_id" UUID NOT NULL,
    "max_vms" INTEGER NOT NULL DEFAULT 20,
    "max_vcpus" INTEGER NOT NULL DEFAULT 64,
    "max_memory_mib" INTEGER NOT NULL DEFAULT 262144,
    "max_storage_bytes" BIGINT NOT NULL DEFAULT 10995116277760,
    "max_running_vms" INTEGER NOT NULL DEFAULT 20,
    "max_running_vcpus" INTEGER NOT NULL DEFAULT 64,
    "max_running_memory_mib" INTEGER NOT NULL DEFAULT 262144,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenant_quotas_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateTable
CREATE TABLE "vms" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "state" "VmState" NOT NULL DEFAULT 'creating',
    "state_reason" TEXT NOT NULL DEFAULT '',
    "cluster_id" UUID,
    "host_id" UUID,
    "vcpus" INTEGER NOT NULL,
    "dynamic_memory" BOOLEAN NOT NULL DEFAULT false,
    "memory_mib" INTEGER NOT NULL,
    "minimum_memory_mib" INTEGER NOT NULL,
    "maximum_memory_mib" INTEGER NOT NULL,
    "memory_buffer_percent" INTEGER NOT NULL DEFAULT 20,
    "memory_weight" INTEGER NOT NULL DEFAULT 5000,
    "storage_bytes" BIGINT NOT NULL,
    "ha_priority" "HaPriority" NOT NULL DEFAULT 'medium',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "groups" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "vms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vm_disks" (
    "id" UUID NOT NULL,
    "vm_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "logical_sector_bytes" INTEGER NOT NULL DEFAULT 4096,
    "kind" TEXT NOT NULL,
    "parent_disk_id" UUID,

    CONSTRAINT "vm_disks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vm_nics" (
    "id" UUID NOT NULL,
    "vm_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "mac_address" TEXT NOT NULL,
    "network" TEXT NOT NULL,
    "minimum_bandwidth_mbps" INTEGER,
    "minimum_bandwidth_weight" INTEGER,
    "maximum_bandwidth_mbps" INTEGER,

    CONSTRAINT "vm_nics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "placement_decisions" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "vm_id" UUID,
    "vm_name" TEXT NOT NULL,
    "cluster_id" UUID NOT NULL,
    "host_id" UUID,
    "host_name" TEXT,
    "policy" "PlacementPolicy" NOT NULL,
    "seed" INTEGER NOT NULL,
    "summary" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "trace" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "placement_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "state" "TaskState" NOT NULL DEFAULT 'queued',
    "tenant_id" UUID,
    "vm_id" UUID,
    "host_id" UUID NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "progress" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT NOT NULL DEFAULT '',
    "error_code" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "lease_until" TIMESTAMPTZ(3),
    "requested_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "vms_host_id_idx" ON "vms"("host_id");

-- CreateIndex
CREATE INDEX "vms_cluster_id_idx" ON "vms"("cluster_id");

-- CreateIndex
CREATE INDEX "vms_tenant_id_state_idx" ON "vms"("tenant_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "vms_tenant_id_name_key" ON "vms"("tenant_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "vm_disks_vm_id_name_key" ON "vm_disks"("vm_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "vm_nics_mac_address_key" ON "vm_nics"("mac_address");

-- CreateIndex
CREATE UNIQUE INDEX "vm_nics_vm_id_name_key" ON "vm_nics"("vm_id", "name");

-- CreateIndex
CREATE INDEX "placement_decisions_vm_id_created_at_idx" ON "placement_decisions"("vm_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "placement_decisions_tenant_id_created_at_idx" ON "placement_decisions"("tenant_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "tasks_host_id_state_created_at_idx" ON "tasks"("host_id", "state", "created_at");

-- CreateIndex
CREATE INDEX "tasks_vm_id_created_at_idx" ON "tasks"("vm_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "tasks_tenant_id_created_at_idx" ON "tasks"("tenant_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "tenant_quotas" ADD CONSTRAINT "tenant_quotas_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vms" ADD CONSTRAINT "vms_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vms" ADD CONSTRAINT "vms_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vms" ADD CONSTRAINT "vms_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vm_disks" ADD CONSTRAINT "vm_disks_vm_id_fkey" FOREIGN KEY ("vm_id") REFERENCES "vms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vm_nics" ADD CONSTRAINT "vm_nics_vm_id_fkey" FOREIGN KEY ("vm_id") REFERENCES "vms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: the Hyper-V limits and model rules, enforced by the database
-- as well as by validation (a second wall against a bug in a service).
ALTER TABLE "vms" ADD CONSTRAINT "vms_vcpus_check" CHECK ("vcpus" BETWEEN 1 AND 64);
ALTER TABLE "vms" ADD CONSTRAINT "vms_memory_check" CHECK (
  "minimum_memory_mib" <= "memory_mib" AND "memory_mib" <= "maximum_memory_mib" AND "maximum_memory_mib" <= 1048576
);
ALTER TABLE "vm_disks" ADD CONSTRAINT "vm_disks_size_check" CHECK ("size_bytes" > 0 AND "size_bytes" <= 70368744177664);
ALTER TABLE "vm_disks" ADD CONSTRAINT "vm_disks_sector_check" CHECK ("logical_sector_bytes" IN (512, 4096));
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_progress_check" CHECK ("progress" BETWEEN 0 AND 100);
CREATE UNIQUE INDEX "vms_tenant_name_lower_key" ON "vms" ("tenant_id", lower("name"));
