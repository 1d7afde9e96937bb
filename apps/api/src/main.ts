import { parseEnv } from './env';
import { startApi } from './server';

let config: ReturnType<typeof parseEnv>;
try {
  config = parseEnv(process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}

// A rejection nobody awaited is a defect to fix, not a reason to stop the control plane for every user:
// say it loudly and keep serving (every long operation is a durable workflow and resumes anyway).
process.on('unhandledRejection', (reason) => {
  console.error('[api] unhandled rejection (kept running):', reason);
});

const api = await startApi(config);
console.log(`[api] listening on ${api.url} (agents: ${config.agentApiUrl}/agent/v1)`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
