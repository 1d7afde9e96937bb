import { rmSync } from 'node:fs';
import { generatePrismaClient } from '../scripts/lib/prisma-generate';
import { E2E } from './stack.config';

/** Starts the whole product, as `npm start` does, with its 8 demo agents, and the HA drill cluster's 2. */
export default async function globalSetup() {
  generatePrismaClient();
  rmSync(E2E.dataDir, { recursive: true, force: true });
  const { startStack } = await import('../scripts/lib/stack');
  const stack = await startStack({
    dataDir: E2E.dataDir,
    pgPort: E2E.pgPort,
    apiPort: E2E.apiPort,
    webPort: E2E.webPort,
    heartbeatIntervalMs: E2E.heartbeatIntervalMs,
    webDistDir: E2E.webDistDir,
    demoAgents: true,
    demoHa: false,
    extraClusters: [{ ...E2E.drillCluster, hosts: [...E2E.drillCluster.hosts] }],
    quiet: true,
    logDir: E2E.logDir,
    log: (line) => console.log(`[e2e stack] ${line}`),
  });
  return async () => {
    await stack.stop();
  };
}
