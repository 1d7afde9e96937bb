-- DropForeignKey
ALTER TABLE "invoices" DROP CONSTRAINT "invoices_month_fkey";

-- CreateTable
CREATE TABLE "billing_close_jobs" (
    "month" DATE NOT NULL,
    "requested_by" TEXT NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "billing_close_jobs_pkey" PRIMARY KEY ("month")
);

-- Hand-written: months closed before jobs existed were closed in one
-- transaction; they become finished jobs, so their invoices keep a parent.
INSERT INTO "billing_close_jobs" ("month", "requested_by", "requested_at", "lease_until", "finished_at")
SELECT "month", "closed_by", "closed_at", "closed_at", "closed_at" FROM "billing_periods";

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_close_jobs"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

