import { defineConfig } from 'prisma/config';

// Used by `prisma generate` only. Migrations run offline through
// @prisma/schema-engine-wasm (packages/db/src/migrate.ts), not the CLI.
export default defineConfig({
  schema: 'prisma/schema.prisma',
});
