// The whole product on one machine: Postgres (embedded unless DATABASE_URL),
// migrations, demo seed, the API, the web console and the demo's host agents.
// Used by `npm start` and by the browser tests.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readPower } from '../../apps/agent/src/bmc/power-file';
import type { HaSettingsPatch } from '../../packages/core/src/ha/ha-settings';
import { openDatabase, REPO_ROOT } from '../../packages/db/src/database';
import { applyMigrations } from '../../packages/db/src/migrate';
import { type DemoBmc, seedDemoBmcs } from './demo-bmcs';
import { type Child, killAllOnExit, NODE_FLAGS, spawnChild, stopChild, waitForHttp } from './processes';

/** The demo hosts' simulated BMCs listen from the API's port + this (one port per host, in DEMO_HOSTS order). */
const BMC_PORT_OFFSET = 1000;

/**
 * The demo clusters HA is on in, when the provider has not set HA there yet: Production, whose five hosts
 * have room to restart any one host's VMs (Development's two small hosts may not). Fenced through the
 * hosts' simulated BMCs, so a host failure drill (the host page) shows its VMs back within seconds of
 * detection. Admission control stays off: the demo's and the browser tests' creates are never refused.
 */
const DEMO_HA: { cluster: string; settings: HaSettingsPatch }[] = [
  { cluster: 'Production', settings: { enabled: true, fenceMethod: 'bmc' } },
];

/** A cluster of simulated hosts beyond the demo's, e.g. the browser tests' HA drill cluster. */
export interface ExtraCluster {
  name: string;
  description: string;
  hosts: { hostname: string; profile: string }[];
  /** Its HA settings, set when the provider has not set any. */
  ha?: HaSettingsPatch;
}

export interface StackOptions {
  dataDir: string;
  pgPort: number;
  apiPort: number;
  webPort: number;
  databaseUrl?: string | undefined;
  heartbeatIntervalMs?: number;
  suspectAfterMissed?: number;
  failedAfterMissed?: number;
  demoAgents: boolean;
  /** Further clusters of simulated hosts, each with its agents and BMCs as the demo's (with demoAgents only). */
  extraClusters?: ExtraCluster[];
  /**
   * HA on in the demo's Production cluster (default true, as `npm start` shows it). The browser tests turn it
   * off: a demo host silent past the detection timeout on a loaded CI machine would be powered off through its
   * BMC and stay off for every spec after; their drill has a cluster of its own.
   */
  demoHa?: boolean;
  /**
   * Run the API and the agents from the bundles of scripts/build-server.ts (`npm start`) instead of
   * their TypeScript sources under tsx (the tests: nothing to build first).
   */
  compiled?: { api: string; agent: string; bmc: string };
  quiet?: boolean;
  /** Where each process's output goes as well (`api.log`, `web.log`, `agent-<host>.log`); none if unset. */
  logDir?: string;
  log?: (line: string) => void;
  /**
   * The console's build directory under apps/web (default `.next`). The browser tests use their own, so
   * `npm test` never rebuilds the console a running `npm start` is serving.
   */
  webDistDir?: string;
}

export interface Stack {
  webUrl: string;
  apiUrl: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

function authSecret(dataDir: string): string {
  const file = path.join(dataDir, 'auth-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

export function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.next') || entry.name === 'generated') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the console unless the last build is newer than every source it depends on. */
export async function buildWebIfStale(log: (line: string) => void, distDir = '.next'): Promise<void> {
  const webDir = path.join(REPO_ROOT, 'apps/web');
  const buildId = path.join(webDir, distDir, 'BUILD_ID');
  const sources = Math.max(
    newestMtime(path.join(webDir, 'src')),
    newestMtime(path.join(REPO_ROOT, 'packages/core/src')),
    newestMtime(path.join(REPO_ROOT, 'apps/api/src')),
    statSync(path.join(webDir, 'package.json')).mtimeMs,
  );
  if (existsSync(buildId) && statSync(buildId).mtimeMs > sources) return;
  log('building the web console (first start or sources changed; about a minute)…');
  const build = spawnChild(
    'web-build',
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/next/dist/bin/next'), 'build'],
    {
      cwd: webDir,
      env: { NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', FABRIC_WEB_DIST_DIR: distDir },
      quiet: false,
    },
  );
  const code = await build.exited;
  if (code !== 0) throw new Error(`next build failed with exit code ${code}`);
}

/** A demo host's BMC password: random on first start, kept in the data directory (a real BMC keeps its own). */
function bmcPassword(dataDir: string, hostname: string): string {
  const file = path.join(dataDir, 'bmc', `${hostname}.password`);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const children: Child[] = [];
  killAllOnExit(children);
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });
  const logFile = (name: string) => (options.logDir ? path.join(options.logDir, `${name}.log`) : undefined);
  const db = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: path.join(dataDir, 'postgres'),
    port: options.pgPort,
  });
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(children.filter((c) => c.name.startsWith('agent')).map((c) => stopChild(c)));
    await Promise.all(children.map((c) => stopChild(c)));
    await db.stop();
  };
  try {
    const applied = await applyMigrations(db.url);
    if (applied.length) log(`migrations applied: ${applied.join(', ')}`);

    const apiUrl = `http://127.0.0.1:${options.apiPort}`;
    const webUrl = `http://localhost:${options.webPort}`;
    const apiEnv: NodeJS.ProcessEnv = {
      DATABASE_URL: db.url,
      FABRIC_API_HOST: '127.0.0.1',
      FABRIC_API_PORT: String(options.apiPort),
      FABRIC_PUBLIC_URL: webUrl,
      FABRIC_AGENT_API_URL: apiUrl,
      // Simulated agents and BMCs: the console offers host failure drills (docs/high-availability.md).
      ...(options.demoAgents ? { FABRIC_SIMULATED_HOSTS: '1' } : {}),
      BETTER_AUTH_SECRET: authSecret(dataDir),
      ...(options.heartbeatIntervalMs ? { FABRIC_HEARTBEAT_INTERVAL_MS: String(options.heartbeatIntervalMs) } : {}),
      ...(options.suspectAfterMissed ? { FABRIC_SUSPECT_AFTER_MISSED: String(options.suspectAfterMissed) } : {}),
      ...(options.failedAfterMissed ? { FABRIC_FAILED_AFTER_MISSED: String(options.failedAfterMissed) } : {}),
    };

    // Seed in-process with the same services the API uses.
    const { parseEnv } = await import('../../apps/api/src/env');
    const { compose } = await import('../../apps/api/src/composition');
    const { seedDemo, DEMO_HOSTS } = await import('../../prisma/seed');
    const { SYSTEM_ACTOR } = await import('../../packages/core/src/shared/tenant-scope');
    const services = compose(parseEnv({ ...process.env, ...apiEnv }));
    const agentPlans: { hostname: string; profile: string; token: string | null; stateDir: string }[] = [];
    try {
      if (await seedDemo(services)) log('demo data seeded');
      if (options.demoAgents) {
        for (const extra of options.extraClusters ?? []) {
          if (await services.uow.repos.fabric.findClusterByName(extra.name)) continue;
          await services.fabric.createCluster(SYSTEM_ACTOR, {
            name: extra.name,
            description: extra.description,
            maxHosts: 64,
            maxVms: 4000,
          });
        }
        const haPlans = [
          ...(options.demoHa === false ? [] : DEMO_HA),
          ...(options.extraClusters ?? []).flatMap((c) => (c.ha ? [{ cluster: c.name, settings: c.ha }] : [])),
        ];
        const stored = await services.uow.repos.ha.clusterSettings();
        for (const plan of haPlans) {
          const cluster = stored.find((c) => c.name === plan.cluster);
          // Never over the provider's own choice: only a cluster whose HA was never set.
          if (!cluster || Object.keys((cluster.haSettings as object | null) ?? {}).length) continue;
          await services.ha.updateSettings(SYSTEM_ACTOR, cluster.id, plan.settings);
          log(`HA on in ${plan.cluster} (${JSON.stringify(plan.settings)})`);
        }
        const hosts = [
          ...DEMO_HOSTS,
          ...(options.extraClusters ?? []).flatMap((c) => c.hosts.map((h) => ({ ...h, cluster: c.name }))),
        ];
        for (const host of hosts) {
          const stateDir = path.join(dataDir, 'agents', host.hostname);
          let token: string | null = null;
          if (!existsSync(path.join(stateDir, 'credential.json'))) {
            // No credential on disk: (re-)register. A host row left from a
            // lost credential would refuse the name, so the demo replaces it.
            rmSync(stateDir, { recursive: true, force: true });
            const stale = await services.uow.repos.fabric.findHostByName(host.hostname);
            if (stale) await services.fabric.removeHost(SYSTEM_ACTOR, stale.id);
            const cluster = await services.uow.repos.fabric.findClusterByName(host.cluster);
            if (!cluster) continue;
            token = (
              await services.fabric.createToken(SYSTEM_ACTOR, {
                clusterId: cluster.id,
                label: `demo agent ${host.hostname}`,
                ttlMinutes: 60,
              })
            ).token;
          }
          agentPlans.push({ hostname: host.hostname, profile: host.profile, token, stateDir });
        }
      }
    } finally {
      // The seeding services' connections end here: none may outlive Postgres when the stack stops.
      await services.prisma.$disconnect();
      await services.pool.end();
    }

    const api = spawnChild(
      'api',
      process.execPath,
      options.compiled ? [options.compiled.api] : [...NODE_FLAGS, 'apps/api/src/main.ts'],
      {
        env: apiEnv,
        quiet: options.quiet,
        logFile: logFile('api'),
      },
    );
    children.push(api);
    await Promise.race([
      waitForHttp(`${apiUrl}/healthz`, 60_000, (s) => s === 200),
      api.exited.then((code) => {
        throw new Error(`the API exited with code ${code} while starting`);
      }),
    ]);

    // The agents before the console's build (minutes on a first start): started after it, every host
    // went connected → suspect → failed while the API's host monitor watched it build.
    // Each host's simulated BMC first (apps/agent/src/bmc): its own process, which outlives the agent as a
    // real BMC outlives the host's OS; its password is kept in the data directory, its login set through
    // the API once the host has registered (demo-bmcs.ts).
    const bmcs: DemoBmc[] = [];
    for (const [i, plan] of agentPlans.entries()) {
      const password = bmcPassword(dataDir, plan.hostname);
      const port = options.apiPort + BMC_PORT_OFFSET + i;
      mkdirSync(plan.stateDir, { recursive: true });
      const bmc = spawnChild(
        `bmc ${plan.hostname}`,
        process.execPath,
        [
          ...(options.compiled ? [options.compiled.bmc] : [...NODE_FLAGS, 'apps/agent/src/bmc/main.ts']),
          '--state-dir',
          plan.stateDir,
          '--hostname',
          plan.hostname,
          '--port',
          String(port),
        ],
        { env: { FABRIC_BMC_PASSWORD: password }, quiet: options.quiet, logFile: logFile(`bmc-${plan.hostname}`) },
      );
      children.push(bmc);
      bmcs.push({ hostname: plan.hostname, url: `http://127.0.0.1:${port}`, username: 'admin', password });
    }
    // Each agent is supervised as a host's power is: after a power loss (its BMC's ForceOff, a host
    // failure drill) it boots again once the BMC gives the power back, as a real server does.
    const startAgent = (plan: (typeof agentPlans)[number], token: string | null) => {
      const args = [
        ...(options.compiled ? [options.compiled.agent] : [...NODE_FLAGS, 'apps/agent/src/main.ts']),
        '--api',
        apiUrl,
        '--driver',
        'simulated',
        '--profile',
        plan.profile,
        '--hostname',
        plan.hostname,
        '--state-dir',
        plan.stateDir,
        ...(token ? ['--token', token] : []),
      ];
      const lossesAtStart = readPower(plan.stateDir).powerLosses;
      const agent = spawnChild(`agent ${plan.hostname}`, process.execPath, args, {
        quiet: options.quiet,
        logFile: logFile(`agent-${plan.hostname}`),
      });
      children.push(agent);
      agent.exited.then(async (code) => {
        if (code === 3) log(`agent ${plan.hostname} stopped: its host was removed in the console`);
        if (stopping || code === 3) return;
        // The BMC records Off only once the agent it killed is gone, so this may run first: a power loss is
        // one the BMC counts within a few seconds; any other exit is a crash, left as it is.
        const lostPower = () =>
          readPower(plan.stateDir).powerLosses > lossesAtStart || readPower(plan.stateDir).state === 'Off';
        for (let i = 0; i < 50 && !lostPower(); i++) await new Promise((r) => setTimeout(r, 100));
        if (stopping || !lostPower()) return;
        log(`${plan.hostname} lost power (its BMC): it boots again when its BMC powers it on`);
        while (!stopping && readPower(plan.stateDir).state === 'Off') await new Promise((r) => setTimeout(r, 500));
        if (stopping) return;
        children.splice(children.indexOf(agent), 1);
        log(`${plan.hostname} powered on: its agent starts`);
        // Registered before it lost power: its credential is on disk, no token.
        startAgent(plan, null);
      });
    };
    for (const plan of agentPlans) startAgent(plan, plan.token);

    const webDistDir = options.webDistDir ?? '.next';
    await buildWebIfStale(log, webDistDir);
    const web = spawnChild(
      'web',
      process.execPath,
      // Next.js's handler behind a server that writes X-Forwarded-For from the socket (apps/web/server.mjs).
      [path.join(REPO_ROOT, 'apps/web/server.mjs')],
      {
        cwd: path.join(REPO_ROOT, 'apps/web'),
        env: {
          NEXT_TELEMETRY_DISABLED: '1',
          NODE_ENV: 'production',
          FABRIC_API_URL: apiUrl,
          PORT: String(options.webPort),
          HOSTNAME: '127.0.0.1',
          FABRIC_WEB_DIST_DIR: webDistDir,
        },
        quiet: options.quiet,
        logFile: logFile('web'),
      },
    );
    children.push(web);

    await waitForHttp(`${webUrl}/login`, 60_000, (s) => s < 500);
    if (options.demoAgents) {
      // The demo hosts' BMC logins, once the agents have registered (in the background).
      void seedDemoBmcs(apiUrl, webUrl, bmcs, log).catch((error: unknown) =>
        log(`demo BMCs: ${error instanceof Error ? error.message : String(error)}`),
      );
      // The demo's replicated VM, once the agents have registered (in the background: start returns now).
      const { seedDemoReplication } = await import('./demo-replication');
      void seedDemoReplication(apiUrl, webUrl, log).catch((error: unknown) =>
        log(`demo replication: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    return { webUrl, apiUrl, databaseUrl: db.url, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
