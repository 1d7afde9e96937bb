import {
  heartbeatRequestSchema,
  inventoryRequestSchema,
  registerRequestSchema,
} from '@fabric/core/fabric/agent-protocol.schema';
import { samplesRequestSchema } from '@fabric/core/metering/sample-protocol.schema';
import { nextTasksRequestSchema, taskReportSchema } from '@fabric/core/tasks/task-protocol.schema';
import fc from 'fast-check';
import pg from 'pg';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { appRouter } from '../routers/root';
import { register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { seedAndSignIn } from '../testing/seed';
import { anyHostile, deriveArbitrary, inputSchemaOf } from '../testing/zod-arbitrary';

// Issue 9, class 6: bad input is a 4xx everywhere, never a 5xx (agents retry a
// 5xx for ever), and a refused call writes nothing. Inputs are derived from
// every tRPC procedure's zod input schema and from the agent protocol's
// schemas, plausible and hostile mixed, and sent over HTTP as each role.
// Calls are sequential: a well-behaved client, within any per-user limits.

/**
 * Runs per tRPC procedure and per agent endpoint, and a time budget per
 * target that bounds the file on a loaded machine (68 targets × 1.2 s): on
 * an idle 2-core machine every target gets its runs well inside it; under
 * load some get fewer, and the summary line says how many ran.
 */
const RUNS_PER_TARGET = Number(process.env.FABRIC_GENERATED_RUNS ?? 25);
const MS_PER_TARGET = Number(process.env.FABRIC_GENERATED_MS_PER_TARGET ?? 1_200);
/** A call unanswered after this long is a finding (a hang), not a slow answer. */
const ANSWER_MS = 20_000;
const SEED = Number(process.env.FABRIC_GENERATED_SEED ?? Date.now() % 2 ** 31);

/**
 * Tables whose rows change without any write being accepted: sessions are
 * refreshed on use by better-auth, and audit events record refusals (checked
 * on their own: a refused call leaves no *successful* audit event). Anything
 * else that changes across a refused call is a write that should not be.
 */
const UNWATCHED_TABLES = new Set([
  'sessions',
  'verifications',
  'audit_events',
  '_prisma_migrations',
  // Each API process's liveness beat for workflow recovery, written on a timer.
  'workflow_executors',
]);

type Role = 'provider-admin' | 'tenant-admin' | 'tenant-user' | 'finance' | 'anonymous';
const ROLES: readonly Role[] = ['provider-admin', 'tenant-admin', 'tenant-user', 'finance', 'anonymous'];

interface Outcome {
  status: number;
  text: string;
}

interface Finding {
  target: string;
  role: string;
  status: number;
  input: string;
  answer: string;
  kind: '5xx' | 'write';
}

let api: TestApi;
let sql: pg.Client;
let cookies: Record<Role, string | null>;
let ids: string[] = [];
let agent: { hostId: string; credential: string; vmId: string; taskId: string };
let tables: string[] = [];
const findings: Finding[] = [];
const tally = {
  calls: 0,
  byStatus: new Map<number, number>(),
  callMs: 0,
  checkMs: 0,
  runsPerTarget: [] as number[],
  /** Refused calls during which an earlier call's late commit landed (confirmed by sending them again). */
  lateWrites: 0,
};

async function digest(): Promise<string> {
  // Whole rows, hashed per table: catches updates as well as inserts and deletes (the test database is small).
  // Audit events are counted by result: a refusal may audit itself, but never as a success.
  const parts = tables.map(
    (t) =>
      `SELECT '${t}' AS t, count(*)::text AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`,
  );
  parts.push(`SELECT 'audit_events(success)', count(*)::text, '' FROM audit_events WHERE result = 'success'`);
  const result = await sql.query<{ t: string; n: string; h: string }>(parts.join(' UNION ALL '));
  // Sorted: a UNION ALL's rows come in no promised order, and a reordering alone once read as a write
  // that changed no table (seed 22: "a refused call wrote ()").
  return result.rows
    .map((r) => `${r.t}:${r.n}:${r.h}`)
    .sort()
    .join(',');
}

/**
 * The digest once nothing moves any more: the effects of an accepted call (a task, a notify, a workflow's
 * step) may land just after it. Quiet means the same digest 150 ms apart (at most 4 s): with 25 ms, a
 * loaded CI machine let an accepted call's late commit land during the next refused call, which was then
 * blamed for it (tenants and a success audit "written" by a refused users.list).
 */
async function settledDigest(): Promise<string> {
  let last = await digest();
  for (let i = 0; i < 26; i += 1) {
    await new Promise((r) => setTimeout(r, 150));
    const now = await digest();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** The digest after the last refused call (nothing changed since), or null after an accepted one (settle first). */
let baseline: string | null = null;

/** JSON that never throws: a bigint as a string, so a value superjson refuses can still be sent raw. */
function plainJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

/**
 * The tRPC body for `input`, as a superjson client sends it; a value superjson
 * itself refuses to encode (an own `__proto__` key) goes raw, as a hostile
 * client would send it, so the server's decoder meets it too.
 */
function encodeInput(input: unknown): string {
  try {
    return JSON.stringify(superjson.serialize(input));
  } catch {
    return plainJson({ json: input });
  }
}

function describeInput(input: unknown): string {
  const text = plainJson(input);
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

async function callProcedure(path: string, type: 'query' | 'mutation', role: Role, input: unknown): Promise<Outcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: 'http://localhost:3000' };
  const cookie = cookies[role];
  if (cookie) headers.cookie = cookie;
  const encoded = input === undefined ? undefined : encodeInput(input);
  const url = `${api.url}/api/trpc/${path}`;
  const signal = AbortSignal.timeout(ANSWER_MS);
  const response =
    type === 'query'
      ? await fetch(encoded ? `${url}?input=${encodeURIComponent(encoded)}` : url, { headers, signal })
      : await fetch(url, { method: 'POST', headers, body: encoded ?? '{}', signal });
  return { status: response.status, text: await response.text() };
}

/** Sends one call, and checks no 5xx and, when refused, no write. */
async function probe(target: string, role: string, input: unknown, send: () => Promise<Outcome>): Promise<void> {
  const checkStart = performance.now();
  const before = baseline ?? (await settledDigest());
  baseline = null;
  const callStart = performance.now();
  let outcome: Outcome;
  try {
    outcome = await send();
  } catch (error) {
    // No answer at all (a hang past ANSWER_MS, a dropped connection): as bad as a 5xx for a client that retries.
    outcome = {
      status: 599,
      text: `no answer: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`,
    };
  }
  const callEnd = performance.now();
  tally.callMs += callEnd - callStart;
  tally.checkMs += callStart - checkStart;
  tally.calls += 1;
  tally.byStatus.set(outcome.status, (tally.byStatus.get(outcome.status) ?? 0) + 1);
  const record = (kind: Finding['kind']) => {
    const finding = {
      target,
      role,
      status: outcome.status,
      input: describeInput(input),
      answer: outcome.text.slice(0, 300),
      kind,
    };
    findings.push(finding);
    return finding;
  };
  if (outcome.status >= 500) {
    throw new Error(`5xx: ${JSON.stringify(record('5xx'))}`);
  }
  if (outcome.status >= 400) {
    let after = await digest();
    if (after !== before) {
      // Confirm before blaming it: an earlier accepted call's commit can land past the settle window on a loaded
      // machine (a tenant and its success audit, "written" by an anonymous users.list in a CI pre-run). Once
      // quiet, the same refused call again: a call that writes, writes again.
      const quiet = await settledDigest();
      const again = await send().catch(() => null);
      after = await digest();
      if (again === null || again.status < 400 || after !== quiet) {
        throw new Error(`a refused call wrote (${diffTables(before, after)}): ${JSON.stringify(record('write'))}`);
      }
      tally.lateWrites += 1;
    }
    baseline = after;
  }
  tally.checkMs += performance.now() - callEnd;
}

/**
 * fc.assert, with a short report: the finding (input cut to 300 characters)
 * and the seed to replay it, instead of a counterexample that may hold 100k
 * characters. No shrinking (endOnFailure): the finding is reported as met.
 */
async function assertProperty<T extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<T>): Promise<void> {
  const details = await fc.check(property, {
    numRuns: RUNS_PER_TARGET,
    seed: SEED,
    endOnFailure: true,
    interruptAfterTimeLimit: MS_PER_TARGET,
  });
  tally.runsPerTarget.push(details.numRuns);
  // Out of time budget is not a failure (markInterruptAsFailure is off); only a thrown finding is.
  if (!details.failed || details.errorInstance === null) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `${cause.slice(0, 2000)}\n(replay: FABRIC_GENERATED_SEED=${details.seed}, run ${details.numRuns} of this target)`,
  );
}

function diffTables(before: string, after: string): string {
  const a = new Set(before.split(','));
  return after
    .split(',')
    .filter((part) => !a.has(part))
    .map((part) => part.split(':')[0])
    .join(', ');
}

beforeAll(async () => {
  api = await startTestApi({ monitor: false });
  const clients: Record<string, ApiClient> = await seedAndSignIn(api);
  const admin = clients.admin as ApiClient;
  const blueAdmin = clients.blueAdmin as ApiClient;
  cookies = {
    'provider-admin': admin.cookie,
    'tenant-admin': blueAdmin.cookie,
    'tenant-user': (clients.blueUser as ApiClient).cookie,
    finance: (clients.finance as ApiClient).cookie,
    anonymous: null,
  };
  // A registered host with a credential, and a VM on it with a task: the ids a plausible call names.
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  const clusterId = clusters.find((c) => c.name === 'Production')?.id ?? '';
  const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId, ttlMinutes: 60 });
  const registered = await register(api.url, token, 'hv-generated-01');
  const host = registered.body as { hostId: string; credential: string };
  const created = await blueAdmin.mutate<{ vm: { id: string }; taskId: string }>('vms.create', {
    name: 'generated-01',
    vcpus: 2,
    memory: { mode: 'static', sizeMiB: 2048 },
    disks: [{ name: 'disk0', sizeGiB: 40 }],
  });
  agent = { hostId: host.hostId, credential: host.credential, vmId: created.vm.id, taskId: created.taskId };
  const tenants = await admin.query<{ id: string }[]>('tenants.list');
  const users = await admin.query<{ id: string }[]>('users.list', {});
  ids = [...clusters.map((c) => c.id), ...tenants.map((t) => t.id), ...users.map((u) => u.id), host.hostId];
  ids.push(created.vm.id, created.taskId);

  sql = new pg.Client({ connectionString: api.databaseUrl });
  await sql.connect();
  const listed = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
  );
  tables = listed.rows.map((r) => r.name).filter((name) => !UNWATCHED_TABLES.has(name));
  console.log(
    `[generated-inputs] seed ${SEED}, up to ${RUNS_PER_TARGET} runs or ${MS_PER_TARGET} ms per target, ${tables.length} tables watched`,
  );
}, 120_000);

afterAll(async () => {
  const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  console.log(
    `[generated-inputs] ${tally.calls} calls: ${statuses.join(' ')}; findings: ${findings.length}; late writes of earlier calls: ${tally.lateWrites}; ` +
      `${Math.round(tally.callMs)} ms in calls, ${Math.round(tally.checkMs)} ms in write checks; ` +
      `runs per target: min ${Math.min(...tally.runsPerTarget)}, max ${Math.max(...tally.runsPerTarget)} over ${tally.runsPerTarget.length} targets`,
  );
  for (const f of findings) console.log(`[generated-inputs] finding ${JSON.stringify(f)}`);
  await sql?.end();
  await api?.close();
});

// ------------------------------------------------------------------ tRPC procedures

const procedures = Object.entries(
  (
    appRouter as unknown as {
      _def: { procedures: Record<string, { _def: { type: string; meta?: { roles: unknown } } }> };
    }
  )._def.procedures,
);
/**
 * Subscriptions are skipped: each takes no input (nothing to derive) and is a
 * server-sent event stream that stays open; their authorization is covered by
 * authorization.int.test.ts.
 */
const callable = procedures.filter(([, p]) => p._def.type !== 'subscription');

/** The roles a procedure admits get most of the runs (to reach past authorization); the others are refused. */
function roleArbitrary(meta: { roles: unknown } | undefined): fc.Arbitrary<Role> {
  const allowed: Role[] = Array.isArray(meta?.roles)
    ? ROLES.filter((r) => (meta.roles as string[]).includes(r))
    : ROLES.filter((r) => r !== 'anonymous');
  return allowed.length
    ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...allowed) }, fc.constantFrom(...ROLES))
    : fc.constantFrom(...ROLES);
}

describe('every tRPC procedure answers generated input with no 5xx and refuses without writing', () => {
  it('covers every query and mutation', () => {
    expect(callable.length).toBeGreaterThanOrEqual(60);
    expect(procedures.length - callable.length).toBe(3);
  });

  it.each(callable.map(([path, p]) => [path, p] as const))('%s', async (path, procedure) => {
    const schema = inputSchemaOf(procedure);
    const type = procedure._def.type as 'query' | 'mutation';
    const input: fc.Arbitrary<unknown> = schema
      ? fc.oneof(
          { weight: 3, arbitrary: deriveArbitrary(schema, { ids, hostileWeight: 1 }) },
          { weight: 2, arbitrary: deriveArbitrary(schema, { ids, hostileWeight: 0 }) },
          { weight: 1, arbitrary: anyHostile },
        )
      : fc.oneof(fc.constant(undefined), anyHostile);
    await assertProperty(
      fc.asyncProperty(roleArbitrary(procedure._def.meta), input, async (role, value) => {
        const started = performance.now();
        await probe(path, role, value, () => callProcedure(path, type, role, value));
        const ms = performance.now() - started;
        if (ms > 5_000)
          console.log(`[generated-inputs] slow: ${path} as ${role} took ${Math.round(ms)} ms: ${describeInput(value)}`);
      }),
    );
  });
});

// ------------------------------------------------------------------ agent endpoints

let seq = Date.now() * 1000;

interface AgentEndpoint {
  name: string;
  method: 'POST' | 'PUT';
  path: () => string;
  schema: z.ZodType;
  /** A plausible body reaches past the replay check with a fresh seq; the long poll answers at once. */
  fixUp?: (body: Record<string, unknown>) => void;
}

const freshSeq = (body: Record<string, unknown>) => {
  if (typeof body.seq === 'number' && Number.isSafeInteger(body.seq) && body.seq > 0) {
    seq += 1;
    body.seq = seq;
  }
};

const agentEndpoints: AgentEndpoint[] = [
  { name: 'register', method: 'POST', path: () => '/agent/v1/register', schema: registerRequestSchema },
  {
    name: 'heartbeat',
    method: 'POST',
    path: () => `/agent/v1/hosts/${agent.hostId}/heartbeat`,
    schema: heartbeatRequestSchema,
    fixUp: freshSeq,
  },
  {
    name: 'inventory',
    method: 'PUT',
    path: () => `/agent/v1/hosts/${agent.hostId}/inventory`,
    schema: inventoryRequestSchema,
    fixUp: freshSeq,
  },
  {
    name: 'tasks/next',
    method: 'POST',
    path: () => `/agent/v1/hosts/${agent.hostId}/tasks/next`,
    schema: nextTasksRequestSchema,
    fixUp: (body) => {
      freshSeq(body);
      // The long poll would hold the test for up to 30 s per call.
      if (body.waitMs === undefined || (typeof body.waitMs === 'number' && body.waitMs > 0)) body.waitMs = 0;
    },
  },
  {
    name: 'samples',
    method: 'POST',
    path: () => `/agent/v1/hosts/${agent.hostId}/samples`,
    schema: samplesRequestSchema,
    fixUp: freshSeq,
  },
  {
    name: 'tasks/report',
    method: 'POST',
    path: () => `/agent/v1/hosts/${agent.hostId}/tasks/${agent.taskId}/report`,
    schema: taskReportSchema,
    fixUp: freshSeq,
  },
];

describe('every agent endpoint answers generated bodies with no 5xx and refuses without writing', () => {
  beforeAll(async () => {
    // Workflows that accepted tRPC calls above started (an evacuation, a failover, a recovery) may go on writing
    // hosts for seconds: let them end first, so their writes are not taken for a refused agent call's.
    const start = Date.now();
    let kinds = '';
    while (Date.now() < start + 60_000) {
      const active = await sql.query<{ kinds: string | null }>(
        `SELECT string_agg(kind, ', ') AS kinds FROM jobs WHERE state IN ('queued', 'running')`,
      );
      if (!active.rows[0]?.kinds) break;
      kinds = active.rows[0].kinds;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (kinds) console.log(`[generated-inputs] waited ${Date.now() - start} ms for jobs to end: ${kinds}`);
    baseline = null;
  }, 70_000);

  it.each(agentEndpoints.map((e) => [e.name, e] as const))('%s', async (_name, endpoint) => {
    const body = fc.oneof(
      { weight: 3, arbitrary: deriveArbitrary(endpoint.schema, { ids, hostileWeight: 1 }) },
      { weight: 2, arbitrary: deriveArbitrary(endpoint.schema, { ids, hostileWeight: 0 }) },
      { weight: 1, arbitrary: anyHostile },
    );
    const credential = fc.constantFrom('valid', 'valid', 'valid', 'none', 'wrong');
    await assertProperty(
      fc.asyncProperty(credential, body, async (who, value) => {
        if (endpoint.fixUp && typeof value === 'object' && value !== null && !Array.isArray(value)) {
          endpoint.fixUp(value as Record<string, unknown>);
        }
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (who === 'valid') headers.authorization = `Bearer ${agent.credential}`;
        if (who === 'wrong') headers.authorization = `Bearer ${agent.hostId}.${'x'.repeat(43)}`;
        const raw = plainJson(value);
        await probe(`agent ${endpoint.name}`, who, value, async () => {
          const response = await fetch(`${api.url}${endpoint.path()}`, {
            method: endpoint.method,
            headers,
            body: raw,
            signal: AbortSignal.timeout(ANSWER_MS),
          });
          return { status: response.status, text: await response.text() };
        });
      }),
    );
  });
});
