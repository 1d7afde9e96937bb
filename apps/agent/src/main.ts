import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AgentApiClient } from './api-client';
import { defaultStateDir, parseAgentArgs, USAGE } from './args';
import { markPowerLossesSeen, readPower, unseenPowerLosses, writeAgentPid } from './bmc/power-file';
import { simulatedDisks } from './disks/agent-disks';
import { type Driver, DriverError } from './drivers/driver';
import { createLibvirtDriver } from './drivers/libvirt/libvirt-driver';
import { resolveProfilePath } from './drivers/simulated/profile';
import { SimulatedDriver } from './drivers/simulated/simulated-driver';
import { EpochStore } from './ha/epoch-store';
import { HaAgent } from './ha/ha-agent';
import { RunLog } from './ha/run-log';
import { RunLoggingDriver } from './ha/run-logging-driver';
import { createLogger } from './log';
import { MeteredAcls } from './metered-acls';
import { Metering } from './metering';
import { MigrationDisks } from './migration/disk-transfer';
import { registerMigrationHandlers } from './migration/migration-handlers';
import { registerStorageMoveHandlers } from './migration/storage-move-handlers';
import { NetworkAgent } from './network/network-agent';
import { registerReplicaHandlers } from './replica/replica-handlers';
import { EXIT_CODES, Reporter } from './reporter';
import { SampleBuffer } from './sample-buffer';
import { StateStore } from './state-store';
import { TaskHandlers } from './task-handlers';
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
  let simulated: ReturnType<typeof simulatedDisks>;
  let simDriver: SimulatedDriver;
  try {
    if (config.driver === 'libvirt') createLibvirtDriver();
    const profilePath = resolveProfilePath(config.profile ?? '');
    // Read once now: a broken profile should stop the agent at start, and the
    // host name decides the default state directory, where the VMs are kept.
    hostname = (await new SimulatedDriver({ profilePath, hostname: config.hostname }).inventory()).hostname;
    stateDir = path.resolve(config.stateDir ?? defaultStateDir(hostname));
    // VM disks are real sparse files a simulated guest writes to; the peer listener ships their blocks (disks/).
    simulated = simulatedDisks(stateDir);
    const peer = simulated.peer;
    simDriver = new SimulatedDriver({
      profilePath,
      hostname: config.hostname,
      stateDir,
      speed,
      disks: simulated.disks,
      peerUrl: () => peer.urlOrNull(),
    });
    driver = simDriver;
    await driver.inventory();
  } catch (error) {
    if (!(error instanceof DriverError)) throw error;
    process.stderr.write(`fabric-agent: ${error.message}\n`);
    return EXIT_CODES.fatal;
  }

  const log = createLogger(hostname);
  // The host's BMC (bmc/): a host it powered off does not boot, and after a power loss its VMs are off,
  // not resumed (they died with the power). The pid is what its ForceOff kills.
  const power = readPower(stateDir);
  if (power.state === 'Off') {
    log.error(`this host is powered off (its BMC says Off since ${power.changedAt}): not starting`);
    return EXIT_CODES.fatal;
  }
  mkdirSync(stateDir, { recursive: true });
  writeAgentPid(stateDir, process.pid);
  if (unseenPowerLosses(stateDir) > 0) {
    const lost = await simDriver.powerLost();
    markPowerLossesSeen(stateDir);
    log.warn(`this host lost power (BMC ForceOff) since the agent last ran: ${lost.length} VM(s) are off`);
  }
  await simulated.start();
  await simDriver.resumeGuests();
  // Kinds beyond vm.* (replica.*, …), each family registering its handlers (task-handlers.ts).
  const handlers = new TaskHandlers();
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
  // Ownership epochs and the run log (docs/high-availability.md): tasks run on a driver that logs every start and stop.
  const epochs = new EpochStore(stateDir);
  const runLogged = new RunLoggingDriver(driver, new RunLog(stateDir, hostname), epochs);
  await runLogged.reconcile();
  registerReplicaHandlers(handlers, { disks: simulated.disks, store: simulated.replicas, driver: runLogged, log });
  // Live migration's host side (migration/migration-handlers.ts), on the run-logged driver.
  // The disks follow the VM host to host over the peer listener (migration/disk-transfer.ts).
  registerMigrationHandlers(handlers, {
    driver: runLogged,
    disks: new MigrationDisks({ stateDir, disks: simulated.disks, peer: simulated.peer }),
  });
  // Live storage migration on this host: the disk files move between pool folders while the guest writes.
  registerStorageMoveHandlers(handlers, {
    disks: simulated.disks,
    inventory: () => simDriver.inventory(),
    setDiskPool: (vmId, names, pool) => simDriver.setDiskPool(vmId, names, pool),
  });
  const ha = new HaAgent({
    driver: runLogged,
    epochs,
    log,
    stateDir,
    sharedDir: process.env.FABRIC_HA_DIR || null,
    peerIntervalMs: Number(process.env.FABRIC_HA_PEER_MS) || 1000,
    discardDisks: simulated.discardDisks,
  });
  await ha.start();
  const meteredAcls = new MeteredAcls();
  const reporter = new Reporter({
    api,
    driver,
    store: new StateStore(stateDir),
    log,
    apiUrl: config.api,
    token: config.token,
    heartbeatMsOverride: config.heartbeatMs,
    tasks: new TaskRunner({ api, driver: runLogged, journal: new TaskJournal(stateDir), log, epochs, handlers }),
    metering: new Metering({
      api,
      driver,
      buffer: new SampleBuffer({ stateDir, maxSamples: config.sampleBufferMax, log }),
      log,
      intervalSeconds: config.sampleSeconds,
      acls: meteredAcls,
    }),
    meteredAcls,
    ha,
  });
  // Tenant networks: this host's compiled policy, pulled, applied to the simulated switch and acknowledged.
  const network = new NetworkAgent({ apiUrl: config.api, store: new StateStore(stateDir), stateDir, log });
  // QoS: the simulated switch shares the host's NICs with the bandwidth each port's applied policy carries.
  simDriver.usePortQos(() => network.portQos());
  // Meter ACLs: the switch counts the bytes they match per metered class (port-meters.ts).
  simDriver.usePortMeters(() => network.portMeters());
  void network
    .run(controller.signal)
    .catch((error: unknown) => log.warn(`network policy loop stopped: ${String(error)}`));
  const exit = await reporter.run(controller.signal);
  await simulated.stop();
  ha.stop();
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
