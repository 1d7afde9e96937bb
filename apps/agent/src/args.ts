import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hostnameSchema } from '@fabric/core/fabric/inventory.schema';
import { z } from 'zod';

export const USAGE = `Usage: tsx apps/agent/src/main.ts --api URL [--token TOKEN] --driver simulated --profile FILE|NAME
                    [--state-dir DIR] [--hostname NAME] [--heartbeat-ms N] [--sim-speed N]
                    [--sample-seconds N] [--sample-buffer-max N]

  --api URL           Fabric API base URL, e.g. http://localhost:4000
  --token TOKEN       one-time registration token (only needed until the agent has registered)
  --driver NAME       simulated (libvirt is not implemented yet); default simulated
  --profile FILE|NAME host profile for the simulated driver: a JSON file, or a built-in name
                      (standard-2x16-512g, large-320lp-4t, small-1x8-64g)
  --state-dir DIR     where the credential is kept; default ~/.fabric-agent/<hostname>
  --hostname NAME     report this host name instead of the profile's
  --heartbeat-ms N    heartbeat every N ms instead of the interval the API asks for
  --sim-speed N       run simulated VM operations N times faster (tests, demos); default 1,
                      or the FABRIC_SIM_SPEED environment variable
  --sample-seconds N  resource metering: a sample per VM every N seconds (1–3600), intervals aligned
                      to wall-clock multiples of N; default 60
  --sample-buffer-max N  samples kept on disk while the API cannot take them; when full the oldest
                      are dropped (and counted); default 100000
  --help              show this help

Exit codes: 0 stopped, 1 fatal (registration refused, bad state), 2 usage,
            3 credential revoked (host removed), 4 credential belongs to another host.`;

const configSchema = z
  .object({
    api: z
      .string({ error: '--api is required' })
      .refine(isHttpUrl, '--api must be an http(s) URL such as http://localhost:4000'),
    token: z.string().min(10, '--token looks too short to be a registration token').max(200).optional(),
    driver: z.enum(['simulated', 'libvirt'], { error: '--driver must be simulated or libvirt' }).default('simulated'),
    profile: z.string().min(1).optional(),
    stateDir: z.string().min(1).optional(),
    hostname: hostnameSchema.optional(),
    heartbeatMs: z
      .string()
      .regex(/^\d+$/, '--heartbeat-ms must be a whole number of milliseconds')
      .transform(Number)
      .pipe(
        z.number().int().min(100, '--heartbeat-ms must be at least 100').max(3_600_000, '--heartbeat-ms at most 1 h'),
      )
      .optional(),
    simSpeed: z
      .string()
      .regex(/^\d+(\.\d+)?$/, '--sim-speed must be a positive number')
      .transform(Number)
      .pipe(z.number().gt(0, '--sim-speed must be above 0').max(10_000, '--sim-speed at most 10000'))
      .optional(),
    sampleSeconds: z
      .string()
      .regex(/^\d+$/, '--sample-seconds must be a whole number of seconds')
      .transform(Number)
      .pipe(z.number().int().min(1, '--sample-seconds must be at least 1').max(3600, '--sample-seconds at most 3600'))
      .default(60),
    sampleBufferMax: z
      .string()
      .regex(/^\d+$/, '--sample-buffer-max must be a whole number of samples')
      .transform(Number)
      .pipe(
        z
          .number()
          .int()
          .min(1, '--sample-buffer-max must be at least 1')
          .max(100_000_000, '--sample-buffer-max at most 100000000'),
      )
      .default(100_000),
  })
  .refine((c) => c.driver !== 'simulated' || c.profile !== undefined, {
    message: '--profile is required with --driver simulated',
    path: ['profile'],
  });

export type AgentConfig = z.infer<typeof configSchema>;

export type ParsedArgs = { ok: true; config: AgentConfig } | { ok: false; help: boolean; message: string };

/** Parses argv (without node and the script) into a validated config, or an error message for the user. */
export function parseAgentArgs(argv: string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        api: { type: 'string' },
        token: { type: 'string' },
        driver: { type: 'string' },
        profile: { type: 'string' },
        'state-dir': { type: 'string' },
        hostname: { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'sim-speed': { type: 'string' },
        'sample-seconds': { type: 'string' },
        'sample-buffer-max': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { ok: false, help: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help === true) return { ok: false, help: true, message: '' };
  const parsed = configSchema.safeParse({
    api: values.api,
    token: values.token,
    driver: values.driver,
    profile: values.profile,
    stateDir: values['state-dir'],
    hostname: values.hostname,
    heartbeatMs: values['heartbeat-ms'],
    simSpeed: values['sim-speed'],
    sampleSeconds: values['sample-seconds'],
    sampleBufferMax: values['sample-buffer-max'],
  });
  if (!parsed.success) {
    return { ok: false, help: false, message: parsed.error.issues.map((i) => i.message).join('\n') };
  }
  return { ok: true, config: parsed.data };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** ~/.fabric-agent/<hostname>: one directory per host name, so several agents can share a machine. */
export function defaultStateDir(hostname: string, home: string = os.homedir()): string {
  return path.join(home, '.fabric-agent', hostname);
}
