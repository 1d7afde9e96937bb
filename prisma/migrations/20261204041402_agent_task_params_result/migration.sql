-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "params" JSONB,
ADD COLUMN     "result" JSONB;
