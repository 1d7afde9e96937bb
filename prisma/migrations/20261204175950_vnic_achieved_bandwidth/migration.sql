-- AlterTable
ALTER TABLE "vm_nics" ADD COLUMN     "achieved_mbps" DOUBLE PRECISION,
ADD COLUMN     "bandwidth_at" TIMESTAMPTZ(3),
ADD COLUMN     "bandwidth_limited_by" TEXT,
ADD COLUMN     "offered_mbps" DOUBLE PRECISION;
