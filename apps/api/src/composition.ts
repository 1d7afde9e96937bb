import { randomUUID } from 'node:crypto';
import { AuditService } from '@fabric/core/audit/audit-service';
import { ChargebackService } from '@fabric/core/chargeback/chargeback-service';
import { CloseMonth } from '@fabric/core/chargeback/close-month';
import { BillExportService } from '@fabric/core/chargeback/export-bills';
import { InvoiceExportService } from '@fabric/core/chargeback/export-invoices';
import { InvoiceService } from '@fabric/core/chargeback/invoice-service';
import { ComputeService } from '@fabric/core/compute/compute-service';
import { FabricService } from '@fabric/core/fabric/fabric-service';
import { HaAdmission } from '@fabric/core/ha/admission';
import { HaAgentChannel } from '@fabric/core/ha/ha-agent-channel';
import { HaService } from '@fabric/core/ha/ha-service';
import { HostBmcs } from '@fabric/core/ha/host-bmc';
import { HostPowerDrills } from '@fabric/core/ha/power-drill';
import { RecoverHost } from '@fabric/core/ha/recover-host';
import { JobTracker } from '@fabric/core/jobs/job-tracker';
import { TaskLogService } from '@fabric/core/jobs/task-log-service';
import { AddressClassService } from '@fabric/core/metering/address-class-service';
import { MeteringService } from '@fabric/core/metering/metering-service';
import { BringBackVms } from '@fabric/core/mobility/bring-back-vms';
import { EvacuateHost } from '@fabric/core/mobility/evacuate-host';
import { MigrateByPattern } from '@fabric/core/mobility/migrate-by-pattern';
import { MigrateVm } from '@fabric/core/mobility/migrate-vm';
import { MoveVmStorage } from '@fabric/core/mobility/move-vm-storage';
import { RebalanceCluster } from '@fabric/core/mobility/rebalance-cluster';
import { NetworkService } from '@fabric/core/network/network-service';
import { PlacementService } from '@fabric/core/placement/placement-service';
import { ReplicateByPattern } from '@fabric/core/replication/replicate-by-pattern';
import { ReplicationQueries } from '@fabric/core/replication/replication-queries';
import { ReplicationService } from '@fabric/core/replication/replication-service';
import { type Clock, systemClock } from '@fabric/core/shared/clock';
import type { TenantScope } from '@fabric/core/shared/tenant-scope';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import { AgentTaskQueue } from '@fabric/core/tasks/agent-task-queue';
import { TenancyService } from '@fabric/core/tenancy/tenancy-service';
import pg from 'pg';
import { type Auth, betterAuthPasswords, createAuth } from './auth/auth';
import type { ApiConfig } from './env';
import { HostEventBus } from './events/host-events';
import { bmcSealer, bmcSealingKey, bmcTargets, RedfishBmcClient } from './ha/redfish-bmc-client';
import {
  migrationTimeScale,
  PrismaMobilityStore,
  PrismaStorageMoveStore,
  TaskQueueMigrationAgents,
} from './mobility/mobility-adapters';
import { AgentTraceBroker, NETWORK_TRACE_CHANNEL } from './network/trace-broker';
import { PdfkitRenderer } from './pdf/pdfkit-renderer';
import {
  PrismaVmOwnership,
  replicaCredentials,
  replicationUnitOfWork,
  TaskQueueReplicaAgents,
} from './replication/replication-adapters';
import { HostNameCache } from './repositories/host-name-cache';
import { PgHeartbeatRecorder } from './repositories/pg-heartbeat-recorder';
import { PgMeteringRepository } from './repositories/pg-metering-repository';
import { createPrismaClient, type PrismaClient } from './repositories/prisma';
import { networkUnitOfWork } from './repositories/prisma-network-repository';
import { PrismaRebalanceRepository } from './repositories/prisma-rebalance-repository';
import { prismaUnitOfWork, type Repositories } from './repositories/prisma-unit-of-work';
import { runForAllTenants } from './tenancy/db-scope';
import { TenantScopedPool } from './tenancy/scoped-pool';
import { DbosWorkflowEngine } from './workflows/dbos-engine';

/**
 * How long a trace waits for each host's agent. An agent's policy long poll is woken at once and a hop
 * takes it well under a second; after this the hop shows Fabric's computed verdict, marked as such.
 */
const AGENT_TRACE_TIMEOUT_MS = 3_000;

export interface Services {
  config: ApiConfig;
  clock: Clock;
  prisma: PrismaClient;
  uow: UnitOfWork<Repositories>;
  auth: Auth;
  fabric: FabricService;
  tenancy: TenancyService;
  audit: AuditService;
  compute: ComputeService;
  /** Decisions and what-ifs (N+1, evacuation, a batch). */
  placement: PlacementService;
  /** Hosts' tasks: handed out leased, reported on by agents. */
  agentTasks: AgentTaskQueue;
  metering: MeteringService;
  /** Metered address classes (metered port ACLs). */
  addressClasses: AddressClassService;
  chargeback: ChargebackService;
  invoices: InvoiceService;
  /** Closing a month: a durable workflow, a task in the Tasks panel. */
  closeMonth: CloseMonth;
  /** Hyper-V Replica (issue 10): enabling, the cycle scheduler, health, failovers (durable workflows). */
  replication: ReplicationService;
  migrateVm: MigrateVm;
  /** Pattern forms (`web*`) of enabling replication and failing over (issue 10), previewed first. */
  replicateByPattern: ReplicateByPattern;
  /** Migrate by pattern (issue 12), previewed first; each migration through migrateVm's workflow. */
  migrateByPattern: MigrateByPattern;
  moveVmStorage: MoveVmStorage;
  evacuateHost: EvacuateHost;
  bringBackVms: BringBackVms;
  /** Dynamic optimization (issue 12): per-cluster rounds from measured load, recommendations, automatic moves. */
  rebalance: RebalanceCluster;
  mobilityStore: PrismaMobilityStore;
  replicationQueries: ReplicationQueries;
  /** The Tasks panel: durable jobs and agents' VM tasks. */
  tasks: TaskLogService;
  /** Durable workflows (DBOS): registered here, launched by startApi. */
  workflows: DbosWorkflowEngine;
  /** Bill and invoice files (the export routes' use cases). */
  billExports: BillExportService;
  invoiceExports: InvoiceExportService;
  /** Plain `pg` for the hot paths (sample ingest, rollups). */
  pool: pg.Pool;
  /** The agent plane's own connections (heartbeats): console load never leaves a beat waiting for one. */
  agentPool: pg.Pool;
  hostEvents: HostEventBus;
  networkTraces: AgentTraceBroker;
  /** The provider's host names, hidden from every tenant's answers (trpc/hide-hosts.ts). */
  hostNames: HostNameCache;
  /** High availability's half of each heartbeat: isolation settings, VMs to discard, peers seen. */
  haAgent: HaAgentChannel;
  /** High availability: settings, VM priority, the failure monitor and its recovery workflow. */
  ha: HaService;
  /** Hosts' BMC logins for fence method bmc (set by the provider; passwords sealed). */
  hostBmcs: HostBmcs;
  /** Host failure drills through the BMC: simulated hosts only (FABRIC_SIMULATED_HOSTS). */
  hostPowerDrills: HostPowerDrills;
  /** Tenant networks (issue 13): IPAM, port policies, per-host compiled policy, isolation proof, trace. */
  network: NetworkService;
}

/** Builds the repositories and services once per process. */
export function compose(config: ApiConfig, clock: Clock = systemClock): Services {
  // The API's queries run as the app role, under row-level security (docs/row-level-security.md);
  // the owner's URL serves only the workflow engine (its own schema) and migrations.
  const prisma = createPrismaClient(config.appDatabaseUrl, config.dbPoolSize);
  const uow = prismaUnitOfWork(prisma);
  const pool = new TenantScopedPool({
    connectionString: config.appDatabaseUrl,
    max: Math.max(2, Math.ceil(config.dbPoolSize / 2)),
  });
  const agentPool = new pg.Pool({ connectionString: config.appDatabaseUrl, max: 2 });
  const chargeback = new ChargebackService({
    chargeback: uow.repos.chargeback,
    audit: uow.repos.audit,
    clock,
    addressClasses: uow.repos.addressClasses,
  });
  const metering = new MeteringService({
    metering: new PgMeteringRepository(pool),
    uow,
    clock,
    retentionDays: config.sampleRetentionDays,
  });
  const invoices = new InvoiceService({
    uow,
    billing: chargeback,
    catchUpRollups: () => metering.housekeeping(),
    clock,
  });
  const workflows = new DbosWorkflowEngine({
    databaseUrl: config.databaseUrl,
    executorId: config.workflows.executorId,
    leaseMs: config.workflows.executorLeaseMs,
    poolSize: config.workflows.poolSize,
    logLevel: config.logLevel,
  });
  const replicationUow = replicationUnitOfWork(prisma);
  const replication = new ReplicationService({
    uow: replicationUow,
    placement: uow.repos.placement,
    agents: new TaskQueueReplicaAgents({ uow: replicationUow, clock }),
    ownership: new PrismaVmOwnership({ uow: replicationUow, clock }),
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
    credentialFor: replicaCredentials(config.authSecret),
  });
  for (const definition of replication.workflows) workflows.register(definition);
  // Live migration (issue 12): both hosts' agents through the task queue, ownership by ha's epochs.
  const mobilityStore = new PrismaMobilityStore({ uow: replicationUow, prisma, clock });
  const migrateVm = new MigrateVm({
    uow,
    placement: uow.repos.placement,
    store: mobilityStore,
    agents: new TaskQueueMigrationAgents({ uow: replicationUow, clock }),
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
    timeScale: migrationTimeScale(),
  });
  workflows.register(migrateVm.workflow);
  // Pattern forms (`web*`): the single operations for every VM whose name matches, in the caller's scope.
  const findVmsByPattern = (scope: TenantScope, pattern: RegExp) => uow.repos.vms.findVmsByPattern(scope, pattern);
  const replicateByPattern = new ReplicateByPattern({
    replication,
    findVms: findVmsByPattern,
    hostName: async (hostId) => (await replicationUow.repos.replication.findHost(hostId))?.name ?? null,
  });
  const migrateByPattern = new MigrateByPattern({ migrate: migrateVm, findVms: findVmsByPattern });
  // Live storage migration (issue 12): the VM's disks to another pool of its host, through its agent.
  const moveVmStorage = new MoveVmStorage({
    uow,
    placement: uow.repos.placement,
    store: mobilityStore,
    disks: new PrismaStorageMoveStore(prisma),
    agents: new TaskQueueMigrationAgents({ uow: replicationUow, clock }),
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
  });
  workflows.register(moveVmStorage.workflow);
  const fabric = new FabricService({
    uow,
    clock,
    policy: config.heartbeat,
    agentApiUrl: config.agentApiUrl,
    heartbeats: new PgHeartbeatRecorder(agentPool),
  });
  const evacuateHost = new EvacuateHost({
    placement: uow.repos.placement,
    migrate: migrateVm,
    setMaintenance: (actor, hostId, enabled, reason) => fabric.setMaintenance(actor, hostId, enabled, reason),
  });
  // Leaving maintenance brings back what its evacuation moved off: one task over MigrateVm's migrations.
  const bringBackVms = new BringBackVms({
    uow,
    placement: uow.repos.placement,
    store: mobilityStore,
    log: mobilityStore,
    migrate: migrateVm,
    setMaintenance: (actor, hostId, enabled, reason) => fabric.setMaintenance(actor, hostId, enabled, reason),
    audit: uow.repos.audit,
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
  });
  workflows.register(bringBackVms.workflow);
  const rebalance = new RebalanceCluster({
    repo: new PrismaRebalanceRepository(prisma),
    placement: uow.repos.placement,
    migrations: migrateVm,
    audit: uow.repos.audit,
    clock,
    newId: randomUUID,
  });
  const closeMonth = new CloseMonth({
    uow,
    billing: chargeback,
    catchUpRollups: () => metering.housekeeping(),
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
    waitMs: config.workflows.closeWaitMs,
    tenantsPerStep: config.workflows.closeTenantsPerStep,
  });
  workflows.register(closeMonth.workflow);
  const hostEvents = new HostEventBus(config.appDatabaseUrl);
  // Traces asked of the agents' switches, through their network-policy long poll (any API process).
  const networkTraces = new AgentTraceBroker({
    events: hostEvents,
    notify: (payload) => hostEvents.notify(NETWORK_TRACE_CHANNEL, payload),
    timeoutMs: AGENT_TRACE_TIMEOUT_MS,
  });
  hostEvents.on('network-trace-notice', (payload: string) => networkTraces.receive(payload));
  // High availability: one durable recovery workflow per host failure (docs/high-availability.md).
  const haAgent = new HaAgentChannel({
    repos: uow.repos,
    clock,
    // Declared below; a heartbeat arrives only once the server listens, after compose() returned.
    restartIsolationStopped: (hostId, stopped) => recoverHost.restartIsolationStopped(hostId, stopped),
  });
  // Fence method bmc: each host's Redfish login, its password sealed under a key from the API's secret.
  const bmcKey = bmcSealingKey(config.authSecret);
  const bmc = { targetOf: bmcTargets(uow.repos.ha, bmcKey), client: new RedfishBmcClient() };
  const recoverHost = new RecoverHost({
    uow,
    bmc,
    workflows,
    tracker: new JobTracker({ jobs: uow.repos.jobs, clock }),
    clock,
    newId: randomUUID,
    heartbeatIntervalMs: config.heartbeat.heartbeatIntervalMs,
    pollMs: Math.min(1000, Math.max(200, Math.round(config.heartbeat.heartbeatIntervalMs / 2))),
    maxRounds: config.haMaxRounds,
  });
  workflows.register(recoverHost.workflow);
  workflows.register(recoverHost.waitWorkflow);
  // Bills as PDF with embedded Unicode fonts; the font catalogue is read once per process.
  const pdf = new PdfkitRenderer();
  return {
    pool,
    agentPool,
    config,
    clock,
    prisma,
    uow,
    auth: createAuth({ prisma, publicUrl: config.publicUrl, secret: config.authSecret }),
    fabric,
    tenancy: new TenancyService({ uow, passwords: betterAuthPasswords, clock }),
    audit: new AuditService({ audit: uow.repos.audit }),
    compute: new ComputeService({ uow, admission: new HaAdmission({ ha: uow.repos.ha }) }),
    placement: new PlacementService({ store: uow.repos.placement, decisions: uow.repos.decisions }),
    agentTasks: new AgentTaskQueue({
      uow,
      clock,
      taskLeaseMs: config.taskLeaseMs,
      // A deleted replicated VM's replica goes too (a replication.remove job).
      onVmDeleted: (vmId) => replication.removeAfterVmDeleted(vmId),
    }),
    chargeback,
    invoices,
    closeMonth,
    replication,
    migrateVm,
    replicateByPattern,
    migrateByPattern,
    moveVmStorage,
    evacuateHost,
    bringBackVms,
    rebalance,
    mobilityStore,
    replicationQueries: new ReplicationQueries({ repo: replicationUow.repos.replication, clock }),
    tasks: new TaskLogService({ jobs: uow.repos.jobs }),
    workflows,
    billExports: new BillExportService({ tenancy: uow.repos.tenancy, audit: uow.repos.audit, bills: chargeback, pdf }),
    invoiceExports: new InvoiceExportService({ tenancy: uow.repos.tenancy, audit: uow.repos.audit, invoices, pdf }),
    metering,
    addressClasses: new AddressClassService({ uow, clock }),
    hostEvents,
    networkTraces,
    hostNames: new HostNameCache(prisma),
    haAgent,
    hostBmcs: new HostBmcs({ uow, clock, sealer: bmcSealer(bmcKey) }),
    hostPowerDrills: new HostPowerDrills({ uow, bmc, clock, simulatedHosts: config.simulatedHosts }),
    ha: new HaService({
      uow,
      recover: recoverHost,
      clock,
      heartbeatIntervalMs: config.heartbeat.heartbeatIntervalMs,
      onSettingsChanged: (clusterId) => haAgent.forget(clusterId),
    }),
    network: new NetworkService({
      uow: networkUnitOfWork(prisma),
      clock,
      callExtension: callSwitchExtension,
      asFabric: runForAllTenants,
      onPolicyChanged: (hostIds) => hostEvents.emit('network-policy', hostIds),
      askAgent: networkTraces.ask,
    }),
  };
}

/** A switch extension's webhook: POST the change, answer { allow, reason } within its timeout. */
async function callSwitchExtension(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ allow: boolean; reason?: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const answer = (await res.json()) as { allow?: unknown; reason?: unknown };
  if (typeof answer.allow !== 'boolean') throw new Error('answer without a boolean "allow"');
  return { allow: answer.allow, reason: typeof answer.reason === 'string' ? answer.reason.slice(0, 500) : undefined };
}
