// `npm start`: the whole product on this machine, with demo data. Ctrl-C stops
// everything (agents, web, API, Postgres); running it again reuses .data/.
import path from 'node:path';
import { REPO_ROOT } from '../packages/db/src/database';
import { buildServerIfStale, SERVER_ENTRIES } from './build-server';
import { generatePrismaClient } from './lib/prisma-generate';

generatePrismaClient();
// The API and agents run as compiled JavaScript (smaller and faster to start than under tsx).
await buildServerIfStale((line) => console.log(line));
const { startStack } = await import('./lib/stack');
const { DEMO_USERS } = await import('../prisma/seed');

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const stack = await startStack({
  dataDir: process.env.FABRIC_DATA_DIR ?? path.join(REPO_ROOT, '.data'),
  pgPort: port('FABRIC_PG_PORT', 54320),
  apiPort: port('FABRIC_API_PORT', 4000),
  webPort: port('PORT', 3000),
  databaseUrl: process.env.DATABASE_URL,
  demoAgents: process.env.FABRIC_DEMO_AGENTS !== '0',
  compiled: SERVER_ENTRIES,
});

if (process.env.FABRIC_DEMO_AGENTS !== '0') {
  // Blue's and Yellow's app-01 on their overlapping 10.1.1.0/24 (in the background).
  const { seedDemoNetworks } = await import('./lib/demo-networks');
  void seedDemoNetworks(stack.apiUrl, stack.webUrl, (line) => console.log(line)).catch((error: unknown) =>
    console.log(`demo networks: ${error instanceof Error ? error.message : String(error)}`),
  );
}

const width = Math.max(...DEMO_USERS.map((u) => u.email.length));
console.log(`
  Fabric is running: ${stack.webUrl}
  API and agent endpoint: ${stack.apiUrl} (agents: ${stack.apiUrl}/agent/v1)

  Demo sign-ins:
${DEMO_USERS.map((u) => `    ${u.email.padEnd(width)}  ${u.password.padEnd(16)}  ${u.role}${u.tenant ? ` (${u.tenant})` : ''}`).join('\n')}

  Ctrl-C stops everything.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping agents, web, API and Postgres…');
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
