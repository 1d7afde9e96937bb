-- CreateTable
CREATE TABLE "billing_periods" (
    "month" DATE NOT NULL,
    "closed_at" TIMESTAMPTZ(3) NOT NULL,
    "closed_by" TEXT NOT NULL,

    CONSTRAINT "billing_periods_pkey" PRIMARY KEY ("month")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "tenant_name" TEXT NOT NULL,
    "month" DATE NOT NULL,
    "version" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "subtotal" DECIMAL(24,6) NOT NULL,
    "discount" DECIMAL(24,6) NOT NULL,
    "total" DECIMAL(24,6) NOT NULL,
    "adjustment" DECIMAL(24,6) NOT NULL,
    "line_count" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "reason" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "invoices_month_tenant_id_version_idx" ON "invoices"("month", "tenant_id", "version" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "invoices_tenant_id_month_version_key" ON "invoices"("tenant_id", "month", "version");

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_month_fkey" FOREIGN KEY ("month") REFERENCES "billing_periods"("month") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: a closed month and its invoices are frozen, whatever code
-- runs against the database. Re-rating adds a version; nothing is rewritten.
CREATE FUNCTION "billing_frozen"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER "invoices_no_update_delete" BEFORE UPDATE OR DELETE ON "invoices"
  FOR EACH ROW EXECUTE FUNCTION "billing_frozen"();
CREATE TRIGGER "invoices_no_truncate" BEFORE TRUNCATE ON "invoices"
  FOR EACH STATEMENT EXECUTE FUNCTION "billing_frozen"();
CREATE TRIGGER "billing_periods_no_update_delete" BEFORE UPDATE OR DELETE ON "billing_periods"
  FOR EACH ROW EXECUTE FUNCTION "billing_frozen"();
CREATE TRIGGER "billing_periods_no_truncate" BEFORE TRUNCATE ON "billing_periods"
  FOR EACH STATEMENT EXECUTE FUNCTION "billing_frozen"();
-- Versions of one invoice are numbered from 1 without gaps (checked on insert).
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_version_positive" CHECK ("version" >= 1);
