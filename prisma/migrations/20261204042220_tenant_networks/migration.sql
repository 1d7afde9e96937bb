-- AlterTable
ALTER TABLE "vm_nics" ADD COLUMN     "ca_address" TEXT,
ADD COLUMN     "port_policy" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "subnet_id" UUID;

-- CreateTable
CREATE TABLE "logical_networks" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "logical_networks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pa_pools" (
    "id" UUID NOT NULL,
    "logical_network_id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "gateway" TEXT NOT NULL,
    "vlan_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pa_pools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_addresses" (
    "id" UUID NOT NULL,
    "pool_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "host_id" UUID NOT NULL,
    "vm_nic_id" UUID,

    CONSTRAINT "provider_addresses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mac_pools" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "first_mac" TEXT NOT NULL,
    "last_mac" TEXT NOT NULL,

    CONSTRAINT "mac_pools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vm_networks" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "isolation" TEXT NOT NULL DEFAULT 'gre',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vm_networks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "virtual_subnets" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "vm_network_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "vsid" INTEGER NOT NULL,
    "prefix" TEXT NOT NULL,
    "gateway" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "virtual_subnets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_network_policies" (
    "host_id" UUID NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "digest" TEXT NOT NULL DEFAULT '',
    "policy" JSONB NOT NULL DEFAULT '{}',
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "applied_version" INTEGER NOT NULL DEFAULT 0,
    "applied_digest" TEXT NOT NULL DEFAULT '',
    "applied_at" TIMESTAMPTZ(3),
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_network_policies_pkey" PRIMARY KEY ("host_id")
);

-- CreateTable
CREATE TABLE "host_network_policy_deltas" (
    "host_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "delta" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_network_policy_deltas_pkey" PRIMARY KEY ("host_id","version")
);

-- CreateTable
CREATE TABLE "isolation_checks" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,
    "hosts" INTEGER NOT NULL,
    "ports" INTEGER NOT NULL,
    "candidates" INTEGER NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "violations" JSONB NOT NULL DEFAULT '[]',
    "trigger" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "isolation_checks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "switch_extensions" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "timeout_ms" INTEGER NOT NULL DEFAULT 2000,
    "failure_policy" TEXT NOT NULL DEFAULT 'closed',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "switch_extensions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "logical_networks_name_key" ON "logical_networks"("name");

-- CreateIndex
CREATE UNIQUE INDEX "pa_pools_logical_network_id_cluster_id_key" ON "pa_pools"("logical_network_id", "cluster_id");

-- CreateIndex
CREATE UNIQUE INDEX "provider_addresses_vm_nic_id_key" ON "provider_addresses"("vm_nic_id");

-- CreateIndex
CREATE INDEX "provider_addresses_host_id_idx" ON "provider_addresses"("host_id");

-- CreateIndex
CREATE UNIQUE INDEX "provider_addresses_pool_id_address_key" ON "provider_addresses"("pool_id", "address");

-- CreateIndex
CREATE UNIQUE INDEX "mac_pools_name_key" ON "mac_pools"("name");

-- CreateIndex
CREATE UNIQUE INDEX "vm_networks_tenant_id_name_key" ON "vm_networks"("tenant_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "virtual_subnets_vsid_key" ON "virtual_subnets"("vsid");

-- CreateIndex
CREATE INDEX "virtual_subnets_tenant_id_idx" ON "virtual_subnets"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "virtual_subnets_vm_network_id_name_key" ON "virtual_subnets"("vm_network_id", "name");

-- CreateIndex
CREATE INDEX "isolation_checks_at_idx" ON "isolation_checks"("at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "switch_extensions_name_key" ON "switch_extensions"("name");

-- CreateIndex
CREATE UNIQUE INDEX "vm_nics_subnet_id_ca_address_key" ON "vm_nics"("subnet_id", "ca_address");

-- AddForeignKey
ALTER TABLE "pa_pools" ADD CONSTRAINT "pa_pools_logical_network_id_fkey" FOREIGN KEY ("logical_network_id") REFERENCES "logical_networks"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_pool_id_fkey" FOREIGN KEY ("pool_id") REFERENCES "pa_pools"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "virtual_subnets" ADD CONSTRAINT "virtual_subnets_vm_network_id_fkey" FOREIGN KEY ("vm_network_id") REFERENCES "vm_networks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: foreign keys to models that carry no back-relation in schema.prisma.
ALTER TABLE "pa_pools" ADD CONSTRAINT "pa_pools_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_vm_nic_id_fkey" FOREIGN KEY ("vm_nic_id") REFERENCES "vm_nics"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "vm_networks" ADD CONSTRAINT "vm_networks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "virtual_subnets" ADD CONSTRAINT "virtual_subnets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "vm_nics" ADD CONSTRAINT "vm_nics_subnet_id_fkey" FOREIGN KEY ("subnet_id") REFERENCES "virtual_subnets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "host_network_policies" ADD CONSTRAINT "host_network_policies_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "host_network_policy_deltas" ADD CONSTRAINT "host_network_policy_deltas_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security (docs/row-level-security.md): a tenant's VM networks and
-- subnets are visible and writable only in that tenant's transactions (or '*').
-- Provider-side tables (logical networks, PA pools, PAs, MAC pool, compiled host
-- policies, isolation checks, extensions) are read by provider procedures and
-- agents only, like hosts.
DO $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['vm_networks', 'virtual_subnets'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY "tenant_isolation" ON %I FOR ALL TO PUBLIC
         USING ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))
         WITH CHECK ((SELECT "fabric_all_tenants"()) OR "tenant_id" = (SELECT "fabric_current_tenant"()))', t);
  END LOOP;
END;
$$;

-- The fabric MAC pool: Hyper-V's OUI.
INSERT INTO "mac_pools" ("id", "name", "first_mac", "last_mac")
VALUES ('00000000-0000-4000-8000-00000000ac00', 'default', '00-15-5D-00-00-00', '00-15-5D-FF-FF-FF');
