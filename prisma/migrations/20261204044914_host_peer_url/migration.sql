-- AlterTable
ALTER TABLE "hosts" ADD COLUMN     "peer_url" TEXT;
