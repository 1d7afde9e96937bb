-- Hand-written (no schema change): names are unique regardless of case, as
-- the services already check, so two concurrent creations cannot both pass.
CREATE UNIQUE INDEX "tenants_name_lower_key" ON "tenants" (lower("name"));
CREATE UNIQUE INDEX "clusters_name_lower_key" ON "clusters" (lower("name"));
DROP INDEX IF EXISTS "hosts_name_lower_idx";
CREATE UNIQUE INDEX "hosts_name_lower_key" ON "hosts" (lower("name") text_pattern_ops);
CREATE UNIQUE INDEX "users_email_lower_key" ON "users" (lower("email"));
