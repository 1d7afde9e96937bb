-- CreateEnum
CREATE TYPE "JobState" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- DropForeignKey
ALTER TABLE "invoices" DROP CONSTRAINT "invoices_month_fkey";

-- DropTable
DROP TABLE "billing_close_jobs";

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "target_label" TEXT NOT NULL,
    "tenant_id" UUID,
    "requested_by" TEXT NOT NULL,
    "requested_by_id" TEXT,
    "state" "JobState" NOT NULL DEFAULT 'queued',
    "progress" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT NOT NULL DEFAULT '',
    "steps" JSONB NOT NULL DEFAULT '[]',
    "result" JSONB,
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jobs_created_at_idx" ON "jobs"("created_at" DESC);

-- CreateIndex
CREATE INDEX "jobs_tenant_id_created_at_idx" ON "jobs"("tenant_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "jobs_kind_target_id_idx" ON "jobs"("kind", "target_id");

-- Hand-written: one queued or running job per kind and target (two users
-- closing the same month at once: the second insert fails, PERIOD_CLOSING).
CREATE UNIQUE INDEX "jobs_one_active_per_target" ON "jobs"("kind", "target_id") WHERE "state" IN ('queued', 'running');

-- Hand-written, SQL only (not a Prisma model): the API processes that run
-- durable workflows, each renewing its lease. When a process stops renewing,
-- one live process (compare-and-set on recovered_by) takes over its pending
-- workflows (DBOS recoverPendingWorkflows), so they resume exactly once.
CREATE TABLE "workflow_executors" (
    "executor_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3) NOT NULL,
    "recovered_by" TEXT,
    "recovered_at" TIMESTAMPTZ(3),

    CONSTRAINT "workflow_executors_pkey" PRIMARY KEY ("executor_id")
);
