import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createBmcServer } from './bmc-server';

/**
 * The simulated BMC of one host, as its own process (bmc-server.ts):
 *   FABRIC_BMC_PASSWORD=… tsx apps/agent/src/bmc/main.ts --state-dir DIR [--port N] [--listen ADDR]
 *                                                        [--username NAME] [--hostname NAME]
 * The password comes from the environment, not argv, so `ps` does not show it. Prints
 * "fabric-bmc listening on <url>" once it answers.
 */
const argsSchema = z.object({
  stateDir: z.string({ error: '--state-dir is required (the agent state directory of the host)' }).min(1),
  port: z
    .string()
    .regex(/^\d+$/, '--port must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65_535, '--port at most 65535'))
    .default(0),
  listen: z.string().min(1).default('127.0.0.1'),
  username: z.string().min(1).max(64, '--username at most 64 characters').default('admin'),
  hostname: z.string().min(1).max(253).optional(),
  password: z
    .string({ error: 'FABRIC_BMC_PASSWORD is required' })
    .min(1, 'FABRIC_BMC_PASSWORD is required')
    .max(128, 'FABRIC_BMC_PASSWORD at most 128 characters'),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      'state-dir': { type: 'string' },
      port: { type: 'string' },
      listen: { type: 'string' },
      username: { type: 'string' },
      hostname: { type: 'string' },
    },
  });
  const parsed = argsSchema.safeParse({
    stateDir: values['state-dir'],
    port: values.port,
    listen: values.listen,
    username: values.username,
    hostname: values.hostname,
    password: process.env.FABRIC_BMC_PASSWORD,
  });
  if (!parsed.success) {
    process.stderr.write(`fabric-bmc: ${parsed.error.issues.map((i) => i.message).join('\n')}\n`);
    process.exit(2);
  }
  const a = parsed.data;
  const stateDir = path.resolve(a.stateDir);
  const hostname = a.hostname ?? path.basename(stateDir);
  const log = (line: string) => process.stdout.write(`[bmc ${hostname}] ${new Date().toISOString()} ${line}\n`);
  const bmc = createBmcServer({ stateDir, username: a.username, password: a.password, hostname, log });
  const url = await bmc.listen(a.port, a.listen);
  log(`fabric-bmc listening on ${url}`);
  const stop = () => void bmc.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`fabric-bmc: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
