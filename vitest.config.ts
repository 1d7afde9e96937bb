import { defineConfig } from 'vitest/config';

// Two tiers (STYLE.md rule 7): `unit` is pure and fast; `integration` runs the
// real API over HTTP against a real Postgres (one embedded server for the run,
// a fresh database per test file) and real agent processes.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/**/*.test.ts', 'apps/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          // After the unit tests: projects with different worker limits run as separate groups.
          sequence: { groupOrder: 1 },
          include: ['apps/**/*.int.test.ts'],
          environment: 'node',
          globalSetup: ['apps/api/src/testing/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
    ],
  },
});
