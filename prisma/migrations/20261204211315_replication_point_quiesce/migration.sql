-- AlterTable
ALTER TABLE "replication_points" ADD COLUMN     "quiesce" JSONB;
