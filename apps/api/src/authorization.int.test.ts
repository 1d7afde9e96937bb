import { randomUUID } from 'node:crypto';
import type { HostChangeEvent } from '@fabric/core/fabric/fabric.schema';
import type { Role } from '@fabric/core/shared/roles';
import type { AnyProcedure } from '@trpc/server';
import pg from 'pg';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from './routers/root';
import { ApiClient, type ProcedureResult } from './testing/api-client';
import { startTestApi, type TestApi } from './testing/harness';
import { type DemoLogin, demoUser, seedAndSignIn } from './testing/seed';
import type { Meta } from './trpc/init';

// The role × procedure table. Every procedure of the API is listed here with
// who may call it; adding a procedure without a row fails the first test.
const ACCESS = {
  'auth.me': 'authenticated',
  'fabric.overview': ['provider-admin', 'finance'],
  'clusters.list': ['provider-admin'],
  'clusters.get': ['provider-admin'],
  'clusters.create': ['provider-admin'],
  'clusters.setPlacement': ['provider-admin'],
  'ha.settings': ['provider-admin'],
  'ha.updateSettings': ['provider-admin'],
  'ha.events': ['provider-admin'],
  'ha.event': ['provider-admin'],
  'ha.setVmPriority': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'ha.vmRecovery': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'tokens.list': ['provider-admin'],
  'tokens.create': ['provider-admin'],
  'tokens.revoke': ['provider-admin'],
  'hosts.list': ['provider-admin'],
  'hosts.get': ['provider-admin'],
  'hosts.setMaintenance': ['provider-admin'],
  'hosts.remove': ['provider-admin'],
  'hosts.setDedication': ['provider-admin'],
  'hosts.bmc': ['provider-admin'],
  'hosts.setBmc': ['provider-admin'],
  'hosts.removeBmc': ['provider-admin'],
  'hosts.power': ['provider-admin'],
  'hosts.simulateFailure': ['provider-admin'],
  'hosts.powerOn': ['provider-admin'],
  'hosts.onChange': ['provider-admin'],
  'tenants.list': ['provider-admin', 'finance'],
  'tenants.get': ['provider-admin'],
  'tenants.create': ['provider-admin'],
  'users.list': ['provider-admin'],
  'users.get': ['provider-admin'],
  'users.create': ['provider-admin'],
  'audit.list': ['provider-admin', 'finance', 'tenant-admin'],
  'portal.overview': ['tenant-admin', 'tenant-user'],
  'portal.users.list': ['tenant-admin'],
  'portal.users.get': ['tenant-admin'],
  'portal.users.create': ['tenant-admin'],
  'vms.list': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'vms.get': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'vms.create': ['tenant-admin', 'tenant-user'],
  'vms.createMany': ['tenant-admin', 'tenant-user'],
  'vms.act': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'vms.actOnPattern': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'vms.myQuota': ['tenant-admin', 'tenant-user'],
  'vms.onChange': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'quotas.get': ['provider-admin'],
  'quotas.set': ['provider-admin'],
  'placement.decision': ['provider-admin'],
  'placement.nPlusOne': ['provider-admin'],
  'placement.clusterHealth': ['provider-admin'],
  'placement.evacuation': ['provider-admin'],
  'placement.whatIf': ['provider-admin'],
  'metering.measureVm': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'metering.resetVm': ['provider-admin', 'tenant-admin'],
  'metering.usageSeries': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'metering.measure': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'metering.addressClasses': ['provider-admin', 'finance'],
  'metering.defineAddressClass': ['provider-admin'],
  'metering.removeAddressClass': ['provider-admin'],
  'chargeback.rateCards': ['provider-admin', 'finance'],
  'chargeback.addRateCard': ['provider-admin', 'finance'],
  'chargeback.setPlan': ['provider-admin', 'finance'],
  'chargeback.bill': ['provider-admin', 'finance', 'tenant-admin'],
  'chargeback.report': ['provider-admin', 'finance'],
  'chargeback.getPlan': ['provider-admin', 'finance', 'tenant-admin'],
  'chargeback.periods': ['provider-admin', 'finance'],
  'chargeback.closePeriod': ['provider-admin', 'finance'],
  'chargeback.reviewPeriod': ['provider-admin', 'finance'],
  'chargeback.rerate': ['provider-admin', 'finance'],
  'chargeback.invoices': ['provider-admin', 'finance', 'tenant-admin'],
  'chargeback.invoice': ['provider-admin', 'finance', 'tenant-admin'],
  'chargeback.costSeries': ['provider-admin', 'finance', 'tenant-admin'],
  'tasks.list': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'tasks.get': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'tasks.onChange': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'replication.targets': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.enable': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.previewEnableByPattern': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.enableByPattern': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.previewFailoverByPattern': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.failoverByPattern': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.list': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'replication.get': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'replication.compliance': ['provider-admin', 'finance', 'tenant-admin', 'tenant-user'],
  'replication.pause': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.resume': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.remove': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.testFailover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.stopTestFailover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.plannedFailover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.failover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.completeFailover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.cancelFailover': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.reverse': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'replication.dashboard': ['provider-admin', 'finance'],
  'replication.authorizations.list': ['provider-admin'],
  'replication.authorizations.create': ['provider-admin'],
  'replication.authorizations.delete': ['provider-admin'],
  'network.vmNetworks': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'network.topology': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'network.createVmNetwork': ['tenant-admin'],
  'network.createSubnet': ['tenant-admin'],
  'network.attachNic': ['tenant-admin'],
  'network.setPortPolicy': ['tenant-admin'],
  'network.updateVmNetwork': ['tenant-admin'],
  'network.deleteVmNetwork': ['tenant-admin'],
  'network.updateSubnet': ['tenant-admin'],
  'network.deleteSubnet': ['tenant-admin'],
  'network.vmPorts': ['provider-admin', 'tenant-admin', 'tenant-user'],
  'network.tenantTrace': ['tenant-admin', 'tenant-user'],
  'network.logicalNetworks': ['provider-admin'],
  'network.macPool': ['provider-admin'],
  'network.setMacPool': ['provider-admin'],
  'network.detachNic': ['tenant-admin'],
  'network.createLogicalNetwork': ['provider-admin'],
  'network.addPaPool': ['provider-admin'],
  'network.hostPolicies': ['provider-admin'],
  'network.isolation': ['provider-admin'],
  'network.trace': ['provider-admin'],
  'network.extensions': ['provider-admin'],
  'network.registerExtension': ['provider-admin'],
  'mobility.preview': ['provider-admin'],
  'mobility.migrate': ['provider-admin'],
  'mobility.previewMigrateByPattern': ['provider-admin'],
  'mobility.migrateByPattern': ['provider-admin'],
  'mobility.cancel': ['provider-admin'],
  'mobility.storagePreview': ['provider-admin'],
  'mobility.moveStorage': ['provider-admin'],
  'mobility.history': ['provider-admin'],
  'mobility.evacuationPlan': ['provider-admin'],
  'mobility.evacuate': ['provider-admin'],
  'mobility.bringBackPlan': ['provider-admin'],
  'mobility.leaveMaintenance': ['provider-admin'],
  'rebalance.overview': ['provider-admin'],
  'rebalance.updateSettings': ['provider-admin'],
  'rebalance.runNow': ['provider-admin'],
  'rebalance.applyOne': ['provider-admin'],
  'rebalance.applyAll': ['provider-admin'],
} as const satisfies Record<string, Meta['roles']>;

type ProcedurePath = keyof typeof ACCESS;

/**
 * What an allowed caller sends, and the answer it gets. Inputs are invalid or
 * name a random id, so probing writes nothing.
 */
interface Probe {
  input?: unknown;
  allowed: 'ok' | 'BAD_REQUEST' | 'NOT_FOUND' | 'PRECONDITION_FAILED';
  /** The refusal's message, where it must say no more than that (a VM the caller cannot see). */
  message?: string;
}

const byRandomId = (): Probe => ({ input: { id: randomUUID() }, allowed: 'NOT_FOUND' });
const emptyCreate: Probe = { input: {}, allowed: 'BAD_REQUEST' };
const byRandomVm = (): Probe => ({ input: { vmId: randomUUID() }, allowed: 'NOT_FOUND' });

const PROBES: Record<Exclude<ProcedurePath, 'hosts.onChange' | 'vms.onChange' | 'tasks.onChange'>, Probe> = {
  'auth.me': { allowed: 'ok' },
  'fabric.overview': { allowed: 'ok' },
  'clusters.list': { allowed: 'ok' },
  'clusters.get': byRandomId(),
  'clusters.create': emptyCreate,
  'clusters.setPlacement': { input: { id: randomUUID(), policy: 'pack', cpuOvercommitRatio: 2 }, allowed: 'NOT_FOUND' },
  'ha.settings': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'ha.updateSettings': { input: { clusterId: randomUUID(), settings: {} }, allowed: 'NOT_FOUND' },
  'ha.events': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'ha.event': byRandomId(),
  'ha.setVmPriority': { input: { vmId: randomUUID(), priority: 'high' }, allowed: 'NOT_FOUND' },
  'ha.vmRecovery': byRandomVm(),
  'tokens.list': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'tokens.create': emptyCreate,
  'tokens.revoke': byRandomId(),
  'hosts.list': { input: {}, allowed: 'ok' },
  'hosts.get': byRandomId(),
  'hosts.setMaintenance': { input: { id: randomUUID(), enabled: true }, allowed: 'NOT_FOUND' },
  'hosts.remove': byRandomId(),
  'hosts.setDedication': { input: { id: randomUUID(), tenantId: null }, allowed: 'NOT_FOUND' },
  'hosts.bmc': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  'hosts.setBmc': {
    input: { hostId: randomUUID(), url: 'https://10.0.0.5', username: 'admin', password: 'secret' },
    allowed: 'NOT_FOUND',
  },
  'hosts.removeBmc': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  // Host failure drills: none on this fabric (FABRIC_SIMULATED_HOSTS unset), so the view is null and the
  // drills are refused before any host is looked up.
  'hosts.power': { input: { hostId: randomUUID() }, allowed: 'ok' },
  'hosts.simulateFailure': { input: { hostId: randomUUID(), kind: 'power-loss' }, allowed: 'PRECONDITION_FAILED' },
  'hosts.powerOn': { input: { hostId: randomUUID() }, allowed: 'PRECONDITION_FAILED' },
  'tenants.list': { allowed: 'ok' },
  'tenants.get': byRandomId(),
  'tenants.create': emptyCreate,
  'users.list': { input: {}, allowed: 'ok' },
  'users.get': byRandomId(),
  'users.create': emptyCreate,
  'audit.list': { input: {}, allowed: 'ok' },
  'portal.overview': { allowed: 'ok' },
  'portal.users.list': { allowed: 'ok' },
  'portal.users.get': byRandomId(),
  'portal.users.create': emptyCreate,
  'vms.list': { input: {}, allowed: 'ok' },
  'vms.get': byRandomId(),
  'vms.create': emptyCreate,
  'vms.createMany': emptyCreate,
  'vms.act': { input: { id: randomUUID(), action: 'start' }, allowed: 'NOT_FOUND' },
  'vms.actOnPattern': { input: { pattern: 'no-such-vm-*', action: 'start' }, allowed: 'ok' },
  'vms.myQuota': { allowed: 'ok' },
  'quotas.get': { input: { tenantId: randomUUID() }, allowed: 'NOT_FOUND' },
  'quotas.set': emptyCreate,
  'placement.decision': byRandomId(),
  'placement.nPlusOne': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'placement.clusterHealth': { allowed: 'ok' },
  'placement.evacuation': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  'placement.whatIf': emptyCreate,
  'metering.measureVm': byRandomId(),
  'metering.resetVm': byRandomId(),
  'metering.usageSeries': {
    input: {
      scope: { kind: 'vm', vmId: randomUUID() },
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-01-02T00:00:00Z'),
      bucket: 'hour',
    },
    allowed: 'NOT_FOUND',
  },
  // A period that ends before it starts: refused for every allowed role alike.
  'metering.measure': {
    input: { scope: { kind: 'tenant' }, from: new Date('2026-01-02T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') },
    allowed: 'BAD_REQUEST',
  },
  'metering.addressClasses': { allowed: 'ok' },
  'metering.defineAddressClass': emptyCreate,
  'metering.removeAddressClass': { input: { name: 'no-such-class' }, allowed: 'NOT_FOUND' },
  'chargeback.rateCards': { allowed: 'ok' },
  'chargeback.addRateCard': emptyCreate,
  'chargeback.setPlan': { input: { tenantId: randomUUID(), plan: { kind: 'list' } }, allowed: 'NOT_FOUND' },
  // A period that ends before it starts: refused for every allowed role alike.
  'chargeback.bill': {
    input: { tenantId: randomUUID(), period: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } },
    allowed: 'BAD_REQUEST',
  },
  'chargeback.report': {
    input: { period: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } },
    allowed: 'BAD_REQUEST',
  },
  'chargeback.getPlan': { input: { tenantId: 'not-a-uuid' }, allowed: 'BAD_REQUEST' },
  'chargeback.periods': { allowed: 'ok' },
  // Months that are not over cannot close (and the probe must not close one).
  'chargeback.closePeriod': { input: { month: '2199-12' }, allowed: 'PRECONDITION_FAILED' },
  'chargeback.reviewPeriod': { input: { month: '2199-12' }, allowed: 'PRECONDITION_FAILED' },
  'chargeback.rerate': { input: { month: '2199-12', reason: 'probe' }, allowed: 'PRECONDITION_FAILED' },
  'chargeback.invoices': { input: {}, allowed: 'ok' },
  'chargeback.invoice': byRandomId(),
  'tasks.list': { input: {}, allowed: 'ok' },
  'tasks.get': byRandomId(),
  'replication.targets': byRandomVm(),
  'replication.enable': emptyCreate,
  // A pattern that matches nothing: an empty preview, and acting on it is NOT_FOUND (nothing written).
  'replication.previewEnableByPattern': {
    input: { pattern: 'no-such-vm-*', target: { kind: 'cluster', clusterId: randomUUID() }, frequencySeconds: 300 },
    allowed: 'ok',
  },
  'replication.enableByPattern': {
    input: { pattern: 'no-such-vm-*', target: { kind: 'cluster', clusterId: randomUUID() }, frequencySeconds: 300 },
    allowed: 'NOT_FOUND',
  },
  'replication.previewFailoverByPattern': { input: { pattern: 'no-such-vm-*', kind: 'planned' }, allowed: 'ok' },
  'replication.failoverByPattern': { input: { pattern: 'no-such-vm-*', kind: 'planned' }, allowed: 'NOT_FOUND' },
  'replication.list': { allowed: 'ok' },
  'replication.get': { input: { vmId: randomUUID() }, allowed: 'NOT_FOUND' },
  // A period that ends before it starts: refused for every allowed role alike.
  'replication.compliance': {
    input: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    allowed: 'BAD_REQUEST',
  },
  'replication.pause': byRandomVm(),
  'replication.resume': byRandomVm(),
  'replication.remove': byRandomVm(),
  'replication.testFailover': byRandomVm(),
  'replication.stopTestFailover': byRandomVm(),
  'replication.plannedFailover': byRandomVm(),
  'replication.failover': byRandomVm(),
  'replication.completeFailover': byRandomVm(),
  'replication.cancelFailover': byRandomVm(),
  'replication.reverse': byRandomVm(),
  'replication.dashboard': { allowed: 'ok' },
  'replication.authorizations.list': { allowed: 'ok' },
  'replication.authorizations.create': emptyCreate,
  'replication.authorizations.delete': byRandomId(),
  'network.vmNetworks': { allowed: 'ok' },
  'network.topology': { allowed: 'ok' },
  'network.createVmNetwork': emptyCreate,
  'network.createSubnet': emptyCreate,
  // A VM the caller cannot see is "VM not found", not "No NIC … on that VM" (which told a probe the id exists).
  'network.attachNic': {
    input: { vmId: randomUUID(), nicName: 'nic0', subnetId: randomUUID() },
    allowed: 'NOT_FOUND',
    message: 'VM not found',
  },
  'network.setPortPolicy': {
    input: { vmId: randomUUID(), nicName: 'nic0', policy: {} },
    allowed: 'NOT_FOUND',
    message: 'VM not found',
  },
  'network.updateVmNetwork': { input: { id: randomUUID(), name: 'renamed' }, allowed: 'NOT_FOUND' },
  'network.deleteVmNetwork': byRandomId(),
  'network.updateSubnet': { input: { id: randomUUID(), name: 'renamed' }, allowed: 'NOT_FOUND' },
  'network.deleteSubnet': byRandomId(),
  'network.vmPorts': byRandomVm(),
  'network.tenantTrace': { input: { fromVmId: randomUUID(), toCa: '10.1.1.1' }, allowed: 'NOT_FOUND' },
  'network.logicalNetworks': { allowed: 'ok' },
  'network.macPool': { allowed: 'ok' },
  'network.setMacPool': emptyCreate,
  'network.detachNic': {
    input: { vmId: randomUUID(), nicName: 'nic0' },
    allowed: 'NOT_FOUND',
    message: 'VM not found',
  },
  'network.createLogicalNetwork': emptyCreate,
  'network.addPaPool': emptyCreate,
  'network.hostPolicies': { allowed: 'ok' },
  'network.isolation': { allowed: 'ok' },
  'network.trace': { input: { fromVmId: randomUUID(), toCa: '10.1.1.1' }, allowed: 'NOT_FOUND' },
  'network.extensions': { allowed: 'ok' },
  'network.registerExtension': emptyCreate,
  'mobility.preview': { input: { vmId: randomUUID(), to: 'best' }, allowed: 'NOT_FOUND' },
  'mobility.migrate': { input: { vmId: randomUUID(), to: 'best' }, allowed: 'NOT_FOUND' },
  'mobility.previewMigrateByPattern': { input: { pattern: 'no-such-vm-*', to: 'best' }, allowed: 'ok' },
  'mobility.migrateByPattern': { input: { pattern: 'no-such-vm-*', to: 'best' }, allowed: 'NOT_FOUND' },
  'mobility.cancel': { input: { taskId: randomUUID() }, allowed: 'NOT_FOUND' },
  'mobility.storagePreview': { input: { vmId: randomUUID(), toPool: 'Local' }, allowed: 'NOT_FOUND' },
  'mobility.moveStorage': { input: { vmId: randomUUID(), toPool: 'Local' }, allowed: 'NOT_FOUND' },
  'mobility.history': { input: {}, allowed: 'ok' },
  'mobility.evacuationPlan': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  'mobility.evacuate': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  'mobility.bringBackPlan': { input: { hostId: randomUUID() }, allowed: 'NOT_FOUND' },
  'mobility.leaveMaintenance': { input: { hostId: randomUUID(), bringBack: true }, allowed: 'NOT_FOUND' },
  'rebalance.overview': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'rebalance.updateSettings': {
    input: { clusterId: randomUUID(), settings: { mode: 'recommend' } },
    allowed: 'NOT_FOUND',
  },
  'rebalance.runNow': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'rebalance.applyOne': { input: { recommendationId: randomUUID() }, allowed: 'NOT_FOUND' },
  'rebalance.applyAll': { input: { clusterId: randomUUID() }, allowed: 'NOT_FOUND' },
  'chargeback.costSeries': {
    input: {
      tenantId: randomUUID(),
      period: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      bucket: 'day',
    },
    allowed: 'BAD_REQUEST',
  },
};

/** One signed-in demo user per role. */
const CALLERS = [
  { login: 'admin', role: 'provider-admin' },
  { login: 'finance', role: 'finance' },
  { login: 'blueAdmin', role: 'tenant-admin' },
  { login: 'blueUser', role: 'tenant-user' },
] as const satisfies readonly { login: DemoLogin; role: Role }[];

// tRPC 11 types `_def.procedures` like the nested router, but holds it flat,
// keyed by dotted path ('portal.users.get'), which is what the table lists.
const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;

function allows(access: Meta['roles'], role: Role | 'anonymous'): boolean {
  if (access === 'public') return true;
  if (role === 'anonymous') return false;
  return access === 'authenticated' || access.includes(role);
}

/** Tables the probes must never write to. */
const DATA_TABLES = [
  'tenants',
  'users',
  'memberships',
  'accounts',
  'clusters',
  'registration_tokens',
  'hosts',
  'vms',
  'tasks',
  'placement_decisions',
  'replication_relationships',
  'replica_authorizations',
  'tenant_quotas',
  'rate_cards',
  'tenant_plans',
  'billing_periods',
  'invoices',
  'metered_address_classes',
  'vm_acl_samples',
  'vm_acl_usage_hourly',
  'vm_acl_usage_daily',
  'vm_networks',
  'virtual_subnets',
  'logical_networks',
  'pa_pools',
  'switch_extensions',
  'rebalance_rounds',
  'rebalance_recommendations',
];

let api: TestApi;
let clients: Record<DemoLogin, ApiClient>;
let anonymous: ApiClient;
let sql: pg.Client;

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  clients = await seedAndSignIn(api);
  anonymous = new ApiClient(api.url);
  sql = new pg.Client({ connectionString: api.databaseUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await api?.close();
});

async function deniedEvents(path: string) {
  const r = await sql.query<{ actor_label: string; tenant_id: string | null; message: string }>(
    `SELECT actor_label, tenant_id, message FROM audit_events
      WHERE action = 'procedure.call' AND result = 'denied' AND target_id = $1 ORDER BY id`,
    [path],
  );
  return r.rows;
}

async function dataCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of DATA_TABLES) {
    const r = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
    counts[table] = Number(r.rows[0]?.n);
  }
  return counts;
}

async function tenantIdOf(email: string): Promise<string | null> {
  const r = await sql.query<{ tenant_id: string | null }>(
    'SELECT m.tenant_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1',
    [email],
  );
  return r.rows[0]?.tenant_id ?? null;
}

function outcome(result: ProcedureResult): string {
  return result.ok ? 'ok' : result.code;
}

describe('the role table', () => {
  it('lists every procedure of the API, and nothing else', () => {
    const actual = Object.keys(procedures).sort();
    const expected = Object.keys(ACCESS).sort();
    const missingFromTable = actual.filter((p) => !expected.includes(p));
    const notInApi = expected.filter((p) => !actual.includes(p));
    expect({ missingFromTable, notInApi }).toEqual({ missingFromTable: [], notInApi: [] });
  });

  it.each(Object.entries(ACCESS))('%s declares the roles of the table', (path, access) => {
    const meta = procedures[path]?._def.meta as Meta | undefined;
    const sorted = (roles: Meta['roles']) => (typeof roles === 'string' ? roles : [...roles].sort());
    expect(meta?.roles && sorted(meta.roles)).toEqual(sorted(access));
  });

  it('has a probe for every query and mutation, and only subscriptions go without', () => {
    for (const [path, procedure] of Object.entries(procedures)) {
      const probed = path in PROBES;
      expect({ path, probed }).toEqual({ path, probed: procedure._def.type !== 'subscription' });
    }
  });
});

describe('every query and mutation over HTTP, as each role and anonymously', () => {
  it.each(Object.keys(PROBES) as (keyof typeof PROBES)[])('%s', async (path) => {
    const access = ACCESS[path];
    const probe = PROBES[path];
    const type = procedures[path]?._def.type;
    if (type !== 'query' && type !== 'mutation') throw new Error(`${path} is a ${type}`);
    const countsBefore = await dataCounts();

    for (const { login, role } of CALLERS) {
      const client = clients[login];
      const denied = await deniedEvents(path);
      const result = await client.call(path, type, probe.input);
      const deniedAfter = await deniedEvents(path);
      if (allows(access, role)) {
        expect({ role, outcome: outcome(result) }).toEqual({ role, outcome: probe.allowed });
        if (probe.message) expect({ role, result }).toMatchObject({ role, result: { message: probe.message } });
        expect(deniedAfter).toHaveLength(denied.length);
      } else {
        expect({ role, result }).toMatchObject({
          role,
          result: { ok: false, status: 403, code: 'FORBIDDEN', message: 'You do not have permission to do this' },
        });
        // Exactly one audit event for the refusal, naming who and what.
        const { email } = demoUser(login);
        expect(deniedAfter).toHaveLength(denied.length + 1);
        expect(deniedAfter.at(-1)).toEqual({
          actor_label: email,
          tenant_id: await tenantIdOf(email),
          message: `Role ${role} may not call ${path}`,
        });
      }
    }

    const denied = await deniedEvents(path);
    const result = await anonymous.call(path, type, probe.input);
    if (allows(access, 'anonymous')) {
      expect(outcome(result)).toBe(probe.allowed);
    } else {
      expect(result).toMatchObject({ ok: false, status: 401, code: 'UNAUTHORIZED' });
    }
    expect(await deniedEvents(path)).toHaveLength(denied.length);

    expect(await dataCounts()).toEqual(countsBefore);
  });
});

// --------------------------------------------------------------- subscription

interface SseEvent {
  event: string | null;
  data: string;
}

/** Reads server-sent events until `done` says so or the server ends the stream. */
async function readEvents(response: Response, done: (events: SseEvent[]) => boolean = () => false) {
  if (!response.body) throw new Error('no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  let ended = false;
  while (!done(events)) {
    const { value, done: streamDone } = await reader.read();
    if (streamDone) {
      ended = true;
      break;
    }
    buffer += value;
    const blocks = buffer.split(/\n\n+/);
    buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      const lines = block.split('\n');
      const field = (name: string) =>
        lines
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trimStart())
          .join('\n');
      if (lines.every((l) => l.startsWith(':'))) continue; // a comment
      events.push({ event: field('event') || null, data: field('data') });
    }
  }
  if (!ended) await reader.cancel();
  return { events, ended };
}

function subscribe(client: ApiClient, signal: AbortSignal) {
  const headers: Record<string, string> = { accept: 'text/event-stream', origin: client.origin };
  if (client.cookie) headers.cookie = client.cookie;
  return fetch(`${api.url}/api/trpc/hosts.onChange`, { headers, signal });
}

function errorOf(event: SseEvent | undefined) {
  const shape = superjson.deserialize<{ message: string; data: { code: string; httpStatus: number } }>(
    JSON.parse(event?.data ?? 'null'),
  );
  return { message: shape.message, code: shape.data.code, httpStatus: shape.data.httpStatus };
}

describe('hosts.onChange (SSE)', () => {
  const path = 'hosts.onChange';

  it.each([
    ['finance', 'finance'],
    ['blueAdmin', 'tenant-admin'],
    ['blueUser', 'tenant-user'],
  ] as const)(
    'as %s: one FORBIDDEN error event, no host events, the stream ends, the refusal is audited',
    async (login, role) => {
      expect(allows(ACCESS[path], role)).toBe(false);
      const listeners = api.services.hostEvents.listenerCount('event');
      const denied = await deniedEvents(path);

      // tRPC answers an SSE request 200 before running the procedure; a refusal
      // arrives as a `serialized-error` event after `connected`, then the stream
      // closes. A timeout here means the server kept it open: a failure.
      const response = await subscribe(clients[login], AbortSignal.timeout(10_000));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const { events, ended } = await readEvents(response);
      expect(ended).toBe(true);
      expect(events.map((e) => e.event)).toEqual(['connected', 'serialized-error']);
      expect(errorOf(events[1])).toEqual({
        code: 'FORBIDDEN',
        httpStatus: 403,
        message: 'You do not have permission to do this',
      });

      expect(api.services.hostEvents.listenerCount('event')).toBe(listeners);
      const deniedAfter = await deniedEvents(path);
      expect(deniedAfter).toHaveLength(denied.length + 1);
      expect(deniedAfter.at(-1)?.message).toBe(`Role ${role} may not call ${path}`);
    },
  );

  it('anonymously: one UNAUTHORIZED error event, not audited as a role refusal', async () => {
    const denied = await deniedEvents(path);
    const response = await subscribe(anonymous, AbortSignal.timeout(10_000));
    expect(response.status).toBe(200);
    const { events, ended } = await readEvents(response);
    expect(ended).toBe(true);
    expect(events.map((e) => e.event)).toEqual(['connected', 'serialized-error']);
    expect(errorOf(events[1])).toEqual({ code: 'UNAUTHORIZED', httpStatus: 401, message: 'Sign in to continue' });
    expect(await deniedEvents(path)).toHaveLength(denied.length);
  });

  it('as the provider admin: streams host events (the control for the refusals above)', async () => {
    const controller = new AbortController();
    const listeners = api.services.hostEvents.listenerCount('event');
    try {
      const response = await subscribe(clients.admin, controller.signal);
      expect(response.status).toBe(200);
      if (!response.body) throw new Error('no body');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('event: connected')) text += (await reader.read()).value ?? '';
      // The subscription listens once its generator has started; wait for
      // that rather than for a fixed time.
      while (api.services.hostEvents.listenerCount('event') === listeners) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const event: HostChangeEvent = {
        hostId: randomUUID(),
        name: 'hv-probe-01',
        state: 'connected',
        lastHeartbeatAt: null,
        kind: 'heartbeat',
      };
      api.services.hostEvents.emit('event', event);
      while (!/\ndata: .*hv-probe-01/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += value;
      }
      expect(text).not.toContain('serialized-error');
      const data = text.split('\n').find((l) => l.startsWith('data: ') && l.includes('hv-probe-01'));
      expect(superjson.deserialize(JSON.parse(data?.slice('data: '.length) ?? 'null'))).toEqual(event);
    } finally {
      controller.abort();
    }
  });
});
