import path from 'node:path';
import { AgentApiClient } from './api-client';
import { defaultStateDir, parseAgentArgs, USAGE } from './args';
import { type Driver, DriverError } from './drivers/driver';
import { createLibvirtDriver } from './drivers/libvirt/libvirt-driver';
import { resolveProfilePath } from './drivers/simulated/profile';
import { SimulatedDriver } from './drivers/simulated/simulated-driver';
import { createLogger } from './log';
import { MeteredAcls } from './metered-acls';
import { Metering } from './metering';
import { EXIT_CODES, Reporter } from './reporter';
import { SampleBuffer } from './sample-buffer';
import { StateStore } from './state-store';
import { TaskJournal } from './task-journal';
import { TaskRunner } from './task-runner';
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

  const speed = config.simSpeed ?? speedFromEnv();
  if (speed === null) {
    process.stderr.write(`fabric-agent: FABRIC_SIM_SPEED must be a number above 0\n\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  let driver: Driver;
  let hostname: string;
  let stateDir: string;
  try {
    if (config.driver === 'libvirt') createLibvirtDriver();
    const profilePath = resolveProfilePath(config.profile ?? '');
    // Read once now: a broken profile should stop the agent at start, and the
    // host name decides the default state directory, where the VMs are kept.
    hostname = (await new SimulatedDriver({ profilePath, hostname: config.hostname }).inventory()).hostname;
    stateDir = path.resolve(config.stateDir ?? defaultStateDir(hostname));
    driver = new SimulatedDriver({ profilePath, hostname: config.hostname, stateDir, speed });
    await driver.inventory();
  } catch (error) {
    if (!(error instanceof DriverError)) throw error;
    process.stderr.write(`fabric-agent: ${error.message}\n`);
    return EXIT_CODES.fatal;
  }

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

  const api = new AgentApiClient({ baseUrl: config.api });
  const meteredAcls = new MeteredAcls();
  const reporter = new Reporter({
    api,
    driver,
    store: new StateStore(stateDir),
    log,
    apiUrl: config.api,
    token: config.token,
    heartbeatMsOverride: config.heartbeatMs,
    tasks: new TaskRunner({ api, driver, journal: new TaskJournal(stateDir), log }),
    metering: new Metering({
      api,
      driver,
      buffer: new SampleBuffer({ stateDir, maxSamples: config.sampleBufferMax, log }),
      log,
      intervalSeconds: config.sampleSeconds,
      acls: meteredAcls,
    }),
    meteredAcls,
  });
  const exit = await reporter.run(controller.signal);
  return exit.code;
}

/** FABRIC_SIM_SPEED when --sim-speed is absent: 1 when unset, null when it is not a usable number. */
function speedFromEnv(): number | null {
  const raw = process.env.FABRIC_SIM_SPEED;
  if (raw === undefined || raw === '') return 1;
  const speed = Number(raw);
  return Number.isFinite(speed) && speed > 0 ? speed : null;
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
