import path from 'node:path';
import { AgentApiClient } from './api-client';
import { defaultStateDir, parseAgentArgs, USAGE } from './args';
import { type Driver, DriverError } from './drivers/driver';
import { createLibvirtDriver } from './drivers/libvirt/libvirt-driver';
import { resolveProfilePath } from './drivers/simulated/profile';
import { SimulatedDriver } from './drivers/simulated/simulated-driver';
import { createLogger } from './log';
import { EXIT_CODES, Reporter } from './reporter';
import { StateStore } from './state-store';
import { AGENT_VERSION } from './version';

/** Wiring only: arguments → driver → state store → reporter, and a clean stop on SIGINT / SIGTERM. */
async function main(): Promise<number> {
  const args = parseAgentArgs(process.argv.slice(2));
  if (!args.ok) {
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_CODES.stopped;
    }
    process.stderr.write(`fabric-agent: ${args.message}\n\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  const config = args.config;

  let driver: Driver;
  let hostname: string;
  try {
    if (config.driver === 'libvirt') createLibvirtDriver();
    const profilePath = resolveProfilePath(config.profile ?? '');
    const simulated = new SimulatedDriver({ profilePath, hostname: config.hostname });
    // Read once now: a broken profile should stop the agent at start, and the
    // host name decides the default state directory.
    hostname = (await simulated.inventory()).hostname;
    driver = simulated;
  } catch (error) {
    if (!(error instanceof DriverError)) throw error;
    process.stderr.write(`fabric-agent: ${error.message}\n`);
    return EXIT_CODES.fatal;
  }

  const stateDir = path.resolve(config.stateDir ?? defaultStateDir(hostname));
  const log = createLogger(hostname);
  log.info(`fabric agent ${AGENT_VERSION} (driver ${driver.name}) → ${config.api}, state in ${stateDir}`);

  const controller = new AbortController();
  let stopping = false;
  const onSignal = (name: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": do not wait for an in-flight request.
      log.warn(`${name} again, exiting immediately`);
      process.exit(EXIT_CODES.stopped);
    }
    stopping = true;
    log.info(`${name} received, stopping`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reporter = new Reporter({
    api: new AgentApiClient({ baseUrl: config.api }),
    driver,
    store: new StateStore(stateDir),
    log,
    apiUrl: config.api,
    token: config.token,
    heartbeatMsOverride: config.heartbeatMs,
  });
  const exit = await reporter.run(controller.signal);
  return exit.code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `fabric-agent: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(EXIT_CODES.fatal);
  },
);
