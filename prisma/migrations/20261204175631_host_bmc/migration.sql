-- CreateTable
CREATE TABLE "host_bmcs" (
    "host_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "password_sealed" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_bmcs_pkey" PRIMARY KEY ("host_id")
);

-- AddForeignKey
ALTER TABLE "host_bmcs" ADD CONSTRAINT "host_bmcs_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
