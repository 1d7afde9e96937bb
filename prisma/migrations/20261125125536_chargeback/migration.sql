-- CreateTable
CREATE TABLE "rate_cards" (
    "id" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "effective_from" DATE NOT NULL,
    "prices" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rate_cards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tenant_plans" (
    "tenant_id" UUID NOT NULL,
    "plan" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenant_plans_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "rate_cards_effective_from_key" ON "rate_cards"("effective_from");

-- Hand-written: what a bill needs from the hourly rollups. Running seconds
-- (a VM with memory or CPU in a sample ran then), its vCPUs and its name at
-- the time (a deleted VM is still billed by name).
ALTER TABLE "vm_usage_hourly" ADD COLUMN "running_seconds" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "vm_usage_hourly" ADD COLUMN "vcpus" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "vm_usage_hourly" ADD COLUMN "vm_name" TEXT NOT NULL DEFAULT '';
