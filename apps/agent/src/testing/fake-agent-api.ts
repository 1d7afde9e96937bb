import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  heartbeatRequestSchema,
  inventoryRequestSchema,
  registerRequestSchema,
} from '@fabric/core/fabric/agent-protocol.schema';
import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
import { samplesRequestSchema, type VmSample } from '@fabric/core/metering/sample-protocol.schema';
import {
  type AgentTask,
  nextTasksRequestSchema,
  type TaskKind,
  type TaskReport,
  taskReportSchema,
  type VmSpec,
} from '@fabric/core/tasks/task-protocol.schema';
import { canonicalJson } from '../canonical-json';

/**
 * A tiny stand-in for the API's /agent/v1 endpoints, on 127.0.0.1 and a free
 * port, for the reporter's tests. It follows the contract (zod schemas, seq
 * rule, one-time tokens, bearer credentials) and can be made to fail on demand.
 */
export interface FakeHost {
  hostId: string;
  credential: string;
  lastSeq: number;
  inventory: HostInventory;
  inventoryHash: string;
  heartbeats: number;
  revoked: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

/** `down`: every request gets 503; `drop`: connections are cut without an answer. */
export type FakeMode = 'up' | 'down' | 'drop';

/**
 * A task as the fake API keeps it: queued until handed out, then leased to
 * its host for `leaseMs`; a lease that lapses without a report is handed
 * out again with attempt + 1, as the real API does.
 */
export interface FakeTask {
  /** As last handed out (attempt = number of hand-outs). */
  task: AgentTask;
  hostId: string;
  state: 'queued' | 'leased' | 'succeeded' | 'failed';
  leaseUntil: number;
  /** Every report received for it, in arrival order, with the answer's `accepted`. */
  reports: { body: TaskReport; accepted: boolean }[];
  final: TaskReport | null;
  /** Answer the next running report with cancel: true. */
  cancelRequested: boolean;
}

export class FakeAgentApi {
  readonly clusterId = randomUUID();
  readonly tokens = new Set<string>();
  readonly hosts = new Map<string, FakeHost>();
  readonly requests: RecordedRequest[] = [];
  mode: FakeMode = 'up';
  heartbeatIntervalMs = 10_000;
  /** Answer the next authenticated request with 409 REPLAYED whatever its seq. */
  replayNext = false;
  /** Ask for the inventory in the next heartbeat answer. */
  requestInventoryNext = false;
  readonly tasks = new Map<string, FakeTask>();
  /** How long a handed-out task stays with its host without a report. */
  leaseMs = 60_000;
  /** As the real API's LOST_AFTER_MS (tests set it lower). */
  lostAfterMs = 5_000;
  /** The next this-many poll answers that carry tasks are lost after the tasks were claimed (the socket is cut). */
  losePollAnswers = 0;
  /** Cut the connection of the next N final reports before reading them (the API never sees them). */
  dropFinalReports = 0;
  /** Record the next N final reports, then cut the connection (the agent never sees the answer). */
  loseFinalReportAnswers = 0;
  /** Answer the task routes 404, like an API from before tasks. */
  tasksUnsupported = false;
  /** Samples stored, by `${vmId}@${at}`: a resent sample is not stored twice (as in the real API). */
  readonly samples = new Map<string, VmSample>();
  /** Every samples batch answered 200, in arrival order (batch number, dropped, sample count, stored). */
  readonly sampleBatches: { batch: number; dropped: number; count: number; stored: number }[] = [];
  /** Answer these batch numbers 400 INVALID_BODY (a batch the API will never take). */
  readonly rejectSampleBatches = new Set<number>();
  /** Samples of these VMs cannot be true: a batch holding one is refused whole, 422 IMPLAUSIBLE_SAMPLES with verdicts. */
  readonly impossibleVms = new Set<string>();
  /** Answer the samples route 404, like an API from before metering. */
  samplesUnsupported = false;
  /** Metered ACLs listed in heartbeat answers (undefined: an API from before them, which lists nothing). */
  meteredAcls: { name: string; remoteAddresses: string[] }[] | undefined = undefined;
  /** ACL names the samples route takes; a batch naming another is refused 400 UNKNOWN_METERED_ACL. */
  knownAcls = new Set<string>();
  /** The API's body limit (docs/agent-protocol.md, "Common rules"); larger samples bodies get 413. */
  maxBodyBytes = 262_144;
  /** Seqs in the order the fake accepted them, across all authenticated calls. */
  readonly acceptedSeqs: number[] = [];
  private server: Server | null = null;
  private taskWaiters = new Set<() => void>();

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('fake API is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  issueToken(): string {
    const token = `fab_${randomBytes(12).toString('hex')}`;
    this.tokens.add(token);
    return token;
  }

  requestsTo(suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix) && r.status < 300);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => reply(res, 500, { error: { code: 'INTERNAL', message: 'fake failed' } }));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  /** Queues a task for a host; a waiting long poll answers at once. */
  enqueueTask(
    hostId: string,
    kind: TaskKind,
    vmId: string,
    spec: VmSpec | null = null,
    params: Record<string, unknown> | null = null,
  ): string {
    const taskId = randomUUID();
    this.tasks.set(taskId, {
      task: { taskId, kind, vmId, spec, attempt: 0, params },
      hostId,
      state: 'queued',
      leaseUntil: 0,
      reports: [],
      final: null,
      cancelRequested: false,
    });
    this.wakeTaskWaiters();
    return taskId;
  }

  /** As if the API lost the task's result (restored from a backup): queued again, handed out with attempt + 1. */
  requeueTask(taskId: string): void {
    const task = this.mustGetTask(taskId);
    task.state = 'queued';
    task.final = null;
    this.wakeTaskWaiters();
  }

  /** Lapses every lease now, as if 60 s had passed without a report. */
  expireLeases(): void {
    for (const task of this.tasks.values()) if (task.state === 'leased') task.leaseUntil = 0;
    this.wakeTaskWaiters();
  }

  /**
   * Long polls waiting now. A stopped agent's poll lingers until the fake
   * sees its socket close; a task queued before that would be handed to the
   * dead poll (and come back only after its lease), so tests wait for 0.
   */
  get waitingPolls(): number {
    return this.taskWaiters.size;
  }

  mustGetTask(taskId: string): FakeTask {
    const task = this.tasks.get(taskId);
    if (!task) throw new Error(`no task ${taskId}`);
    return task;
  }

  private accept(host: FakeHost, seq: number): void {
    host.lastSeq = seq;
    this.acceptedSeqs.push(seq);
  }

  /**
   * Queued tasks, lapsed leases and (as the real API) leased tasks the poll says the agent does not hold,
   * handed out over `lostAfterMs` ago, oldest first, leased to the host with the next attempt number.
   */
  private claimTasks(hostId: string, max: number, holding?: string[]): AgentTask[] {
    const now = Date.now();
    const claimed: AgentTask[] = [];
    for (const task of this.tasks.values()) {
      if (claimed.length >= max) break;
      if (task.hostId !== hostId) continue;
      const lost =
        !!holding && !holding.includes(task.task.taskId) && task.leaseUntil - this.leaseMs + this.lostAfterMs <= now;
      const lapsed = task.state === 'leased' && (task.leaseUntil <= now || lost);
      if (task.state !== 'queued' && !lapsed) continue;
      task.task = { ...task.task, attempt: task.task.attempt + 1 };
      task.state = 'leased';
      task.leaseUntil = now + this.leaseMs;
      claimed.push(task.task);
    }
    return claimed;
  }

  private wakeTaskWaiters(): void {
    for (const wake of [...this.taskWaiters]) wake();
  }

  /** Resolves when tasks may be there for someone, after `ms`, or when the client leaves. */
  private waitForTasks(ms: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.taskWaiters.delete(done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.taskWaiters.add(done);
      res.on('close', done);
    });
  }

  async stop(): Promise<void> {
    this.wakeTaskWaiters();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const record = (status: number, payload: unknown) => {
      this.requests.push({ method, path, body, status });
      reply(res, status, payload);
    };
    if (this.mode === 'drop') {
      this.requests.push({ method, path, body, status: 0 });
      req.socket.destroy();
      return;
    }
    if (this.mode === 'down') {
      record(503, { error: { code: 'UNAVAILABLE', message: 'database is restarting' } });
      return;
    }

    if (method === 'POST' && path === '/agent/v1/register') {
      const parsed = registerRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'BAD_REQUEST', message: 'malformed' } });
      if (!this.tokens.delete(parsed.data.token)) {
        return record(401, { error: { code: 'INVALID_TOKEN', message: 'registration token is invalid or used' } });
      }
      const hostId = randomUUID();
      const credential = `${hostId}.${randomBytes(16).toString('hex')}`;
      this.hosts.set(hostId, {
        hostId,
        credential,
        lastSeq: 0,
        inventory: parsed.data.inventory,
        inventoryHash: hashOf(parsed.data.inventory),
        heartbeats: 0,
        revoked: false,
      });
      return record(201, {
        hostId,
        clusterId: this.clusterId,
        clusterName: 'test-cluster',
        credential,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        inventoryHash: hashOf(parsed.data.inventory),
      });
    }

    const match =
      /^\/agent\/v1\/hosts\/([^/]+)\/(inventory|heartbeat|samples|tasks\/next|tasks\/([^/]+)\/report)$/.exec(path);
    if (!match) return record(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    const [, hostId = '', route = '', reportedTaskId = ''] = match;
    const action = route.endsWith('/report') ? 'report' : route;
    if (this.tasksUnsupported && (action === 'report' || action === 'tasks/next')) {
      return record(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    if (action === 'samples' && this.samplesUnsupported) {
      return record(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    if (action === 'samples' && Buffer.byteLength(text) > this.maxBodyBytes) {
      return record(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: `body above ${this.maxBodyBytes} bytes` } });
    }
    if (action === 'report' && this.dropFinalReports > 0 && isFinalReport(body)) {
      this.dropFinalReports -= 1;
      this.requests.push({ method, path, body, status: 0 });
      req.socket.destroy();
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const owner = [...this.hosts.values()].find((h) => h.credential === bearer);
    if (!owner || owner.revoked) return record(401, { error: { code: 'UNAUTHORIZED', message: 'credential revoked' } });
    if (owner.hostId !== hostId) return record(403, { error: { code: 'FORBIDDEN', message: 'not your host' } });

    const seq = typeof body === 'object' && body !== null && 'seq' in body ? Number(body.seq) : 0;
    if (this.replayNext || seq <= owner.lastSeq) {
      this.replayNext = false;
      return record(409, { error: { code: 'REPLAYED', message: `seq ${seq} is not above ${owner.lastSeq}` } });
    }

    if (action === 'tasks/next' && method === 'POST') {
      const parsed = nextTasksRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'INVALID_BODY', message: 'malformed poll' } });
      // The seq counts on arrival, before the wait, as in the real API.
      this.accept(owner, seq);
      let tasks = this.claimTasks(owner.hostId, parsed.data.max, parsed.data.holding);
      if (tasks.length === 0 && parsed.data.waitMs > 0) {
        await this.waitForTasks(parsed.data.waitMs, res);
        if (res.destroyed || this.server === null) return;
        tasks = this.claimTasks(owner.hostId, parsed.data.max, parsed.data.holding);
      }
      if (tasks.length > 0 && this.losePollAnswers > 0) {
        this.losePollAnswers -= 1;
        this.requests.push({ method, path, body, status: 0 });
        req.socket.destroy();
        return;
      }
      return record(200, { tasks });
    }
    if (action === 'report' && method === 'POST') {
      const task = this.tasks.get(reportedTaskId);
      if (!task || task.hostId !== owner.hostId) {
        return record(404, { error: { code: 'TASK_NOT_FOUND', message: 'no such task for this host' } });
      }
      const parsed = taskReportSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'INVALID_BODY', message: 'malformed report' } });
      this.accept(owner, seq);
      const report = parsed.data;
      let accepted: boolean;
      let cancel = false;
      if (task.final !== null) {
        // Finished already: the same result again is fine (a lost answer), anything else is not recorded.
        accepted =
          report.status === task.final.status &&
          (report.status !== 'failed' || task.final.status !== 'failed' || report.code === task.final.code);
      } else if (report.status === 'running') {
        accepted = true;
        cancel = task.cancelRequested;
        task.leaseUntil = Date.now() + this.leaseMs;
      } else {
        accepted = true;
        task.final = report;
        task.state = report.status;
      }
      task.reports.push({ body: report, accepted });
      if (report.status !== 'running' && this.loseFinalReportAnswers > 0) {
        this.loseFinalReportAnswers -= 1;
        this.requests.push({ method, path, body, status: 0 });
        req.socket.destroy();
        return;
      }
      return record(200, { accepted, cancel });
    }

    if (action === 'samples' && method === 'POST') {
      const parsed = samplesRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'INVALID_BODY', message: 'malformed samples' } });
      this.accept(owner, seq);
      if (this.rejectSampleBatches.has(parsed.data.batch)) {
        return record(400, { error: { code: 'INVALID_BODY', message: `batch ${parsed.data.batch} refused` } });
      }
      const unknown = parsed.data.samples.flatMap((x) =>
        (x.networkAcls ?? []).filter((a) => !this.knownAcls.has(a.acl)),
      );
      if (unknown.length) {
        return record(400, { error: { code: 'UNKNOWN_METERED_ACL', message: `unknown ACL "${unknown[0]?.acl}"` } });
      }
      const impossible = parsed.data.samples.flatMap((x, index) =>
        this.impossibleVms.has(x.vmId)
          ? [{ index, vmId: x.vmId, at: x.at, code: 'SAMPLE_MEMORY_ABOVE_VM', message: 'above the VM' }]
          : [],
      );
      if (impossible.length) {
        return record(422, {
          error: { code: 'IMPLAUSIBLE_SAMPLES', message: `${impossible.length} impossible`, samples: impossible },
        });
      }
      let stored = 0;
      for (const sample of parsed.data.samples) {
        const key = `${sample.vmId}@${sample.at}`;
        if (this.samples.has(key)) continue;
        this.samples.set(key, sample);
        stored += 1;
      }
      const { batch, dropped, samples } = parsed.data;
      this.sampleBatches.push({ batch, dropped, count: samples.length, stored });
      return record(200, { stored, ignored: 0 });
    }
    if (action === 'inventory' && method === 'PUT') {
      const parsed = inventoryRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'BAD_REQUEST', message: 'malformed inventory' } });
      this.accept(owner, seq);
      owner.inventory = parsed.data.inventory;
      owner.inventoryHash = hashOf(parsed.data.inventory);
      return record(200, { inventoryHash: owner.inventoryHash, heartbeatIntervalMs: this.heartbeatIntervalMs });
    }
    if (action === 'heartbeat' && method === 'POST') {
      const parsed = heartbeatRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'BAD_REQUEST', message: 'malformed heartbeat' } });
      this.accept(owner, seq);
      owner.heartbeats += 1;
      const requested = this.requestInventoryNext || parsed.data.inventoryHash !== owner.inventoryHash;
      this.requestInventoryNext = false;
      return record(200, {
        state: 'connected',
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        inventoryRequested: requested,
        ...(this.meteredAcls ? { meteredAcls: this.meteredAcls } : {}),
      });
    }
    return record(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'method not allowed' } });
  }
}

function isFinalReport(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && body.status !== 'running';
}

function hashOf(inventory: HostInventory): string {
  return createHash('sha256').update(canonicalJson(inventory)).digest('hex');
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Polls `check` until it is true; fails after a generous bound rather than
 * asserting timing (a loaded 2-core CI machine can be slow; a real failure
 * still fails).
 */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
