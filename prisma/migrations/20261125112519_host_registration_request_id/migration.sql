-- AlterTable
ALTER TABLE "hosts" ADD COLUMN     "registration_request_id" UUID;
