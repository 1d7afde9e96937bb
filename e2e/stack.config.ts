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
  /**
   * A cluster of its own for the host failure drill (e2e/admin/ha-drill.spec.ts): powering off a demo host
   * would take other specs' VMs and hosts with it. Two hosts of Production's profile (its storage pools, so
   * VMs can move there), fewer than the demo clusters' (placement tries the clusters with the most hosts that
   * fit first, so other specs' VMs land elsewhere); HA on, fenced through their BMCs, detection in 10 s (with 5 s a
   * drill host went silent that long while the console built, and an event opened).
   */
  drillCluster: {
    name: 'HA drill',
    description: 'Hosts the browser tests power off (host failure drill)',
    hosts: [
      { hostname: 'hv-drill-01', profile: 'standard-2x16-512g' },
      { hostname: 'hv-drill-02', profile: 'standard-2x16-512g' },
    ],
    ha: { enabled: true, fenceMethod: 'bmc', detectionTimeoutMs: 10_000 },
  },
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
