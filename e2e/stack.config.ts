import path from 'node:path';

// The stack the browser tests run against: its own data directory (fresh
// each run) and ports, so it never meets a developer's `npm start`.
// Heartbeats every second so "killed agent turns suspect" takes seconds.
export const E2E = {
  dataDir: path.resolve(import.meta.dirname, '../.data-e2e'),
  pgPort: 54391,
  apiPort: 4391,
  webPort: 3391,
  heartbeatIntervalMs: 1000,
  /** The console's build directory under apps/web: not the .next a running `npm start` serves. */
  webDistDir: '.next-test',
  /** Each process's output, kept for a failed run (npm test prints the API's tail). */
  get logDir() {
    return path.join(this.dataDir, 'logs');
  },
  get webUrl() {
    return `http://localhost:${this.webPort}`;
  },
  get apiUrl() {
    return `http://127.0.0.1:${this.apiPort}`;
  },
} as const;
