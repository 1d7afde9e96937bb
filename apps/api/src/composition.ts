import { randomUUID } from 'node:crypto';
import { AuditService } from '@fabric/core/audit/audit-service';
import { ChargebackService } from '@fabric/core/chargeback/chargeback-service';
import { CloseMonth } from '@fabric/core/chargeback/close-month';
import { BillExportService } from '@fabric/core/chargeback/export-bills';
import { InvoiceExportService } from '@fabric/core/chargeback/export-invoices';
import { InvoiceService } from '@fabric/core/chargeback/invoice-service';
import { ComputeService } from '@fabric/core/compute/compute-service';
import { FabricService } from '@fabric/core/fabric/fabric-service';
import { JobTracker } from '@fabric/core/jobs/job-tracker';
import { TaskLogService } from '@fabric/core/jobs/task-log-service';
import { AddressClassService } from '@fabric/core/metering/address-class-service';
import { MeteringService } from '@fabric/core/metering/metering-service';
import { PlacementService } from '@fabric/core/placement/placement-service';
import { type Clock, systemClock } from '@fabric/core/shared/clock';
import type { UnitOfWork } from '@fabric/core/shared/unit-of-work';
import { AgentTaskQueue } from '@fabric/core/tasks/agent-task-queue';
import { TenancyService } from '@fabric/core/tenancy/tenancy-service';
import pg from 'pg';
import { type Auth, betterAuthPasswords, createAuth } from './auth/auth';
import type { ApiConfig } from './env';
import { HostEventBus } from './events/host-events';
import { PdfkitRenderer } from './pdf/pdfkit-renderer';
import { HostNameCache } from './repositories/host-name-cache';
import { PgHeartbeatRecorder } from './repositories/pg-heartbeat-recorder';
import { PgMeteringRepository } from './repositories/pg-metering-repository';
import { createPrismaClient, type PrismaClient } from './repositories/prisma';
import { prismaUnitOfWork, type Repositories } from './repositories/prisma-unit-of-work';
import { TenantScopedPool } from './tenancy/scoped-pool';
import { DbosWorkflowEngine } from './workflows/dbos-engine';

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
  /** The provider's host names, hidden from every tenant's answers (trpc/hide-hosts.ts). */
  hostNames: HostNameCache;
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
    fabric: new FabricService({
      uow,
      clock,
      policy: config.heartbeat,
      agentApiUrl: config.agentApiUrl,
      heartbeats: new PgHeartbeatRecorder(agentPool),
    }),
    tenancy: new TenancyService({ uow, passwords: betterAuthPasswords, clock }),
    audit: new AuditService({ audit: uow.repos.audit }),
    compute: new ComputeService({ uow }),
    placement: new PlacementService({ store: uow.repos.placement, decisions: uow.repos.decisions }),
    agentTasks: new AgentTaskQueue({ uow, clock, taskLeaseMs: config.taskLeaseMs }),
    chargeback,
    invoices,
    closeMonth,
    tasks: new TaskLogService({ jobs: uow.repos.jobs }),
    workflows,
    billExports: new BillExportService({ tenancy: uow.repos.tenancy, audit: uow.repos.audit, bills: chargeback, pdf }),
    invoiceExports: new InvoiceExportService({ tenancy: uow.repos.tenancy, audit: uow.repos.audit, invoices, pdf }),
    metering,
    addressClasses: new AddressClassService({ uow, clock }),
    hostEvents: new HostEventBus(config.appDatabaseUrl),
    hostNames: new HostNameCache(prisma),
  };
}
