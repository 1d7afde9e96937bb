import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  heartbeatRequestSchema,
  inventoryRequestSchema,
  registerRequestSchema,
} from '@fabric/core/fabric/agent-protocol.schema';
import type { HostInventory } from '@fabric/core/fabric/inventory.schema';
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
  private server: Server | null = null;

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

  async stop(): Promise<void> {
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

    const match = /^\/agent\/v1\/hosts\/([^/]+)\/(inventory|heartbeat)$/.exec(path);
    if (!match) return record(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    const [, hostId = '', action] = match;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const owner = [...this.hosts.values()].find((h) => h.credential === bearer);
    if (!owner || owner.revoked) return record(401, { error: { code: 'UNAUTHORIZED', message: 'credential revoked' } });
    if (owner.hostId !== hostId) return record(403, { error: { code: 'FORBIDDEN', message: 'not your host' } });

    const seq = typeof body === 'object' && body !== null && 'seq' in body ? Number(body.seq) : 0;
    if (this.replayNext || seq <= owner.lastSeq) {
      this.replayNext = false;
      return record(409, { error: { code: 'REPLAYED', message: `seq ${seq} is not above ${owner.lastSeq}` } });
    }

    if (action === 'inventory' && method === 'PUT') {
      const parsed = inventoryRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'BAD_REQUEST', message: 'malformed inventory' } });
      owner.lastSeq = seq;
      owner.inventory = parsed.data.inventory;
      owner.inventoryHash = hashOf(parsed.data.inventory);
      return record(200, { inventoryHash: owner.inventoryHash, heartbeatIntervalMs: this.heartbeatIntervalMs });
    }
    if (action === 'heartbeat' && method === 'POST') {
      const parsed = heartbeatRequestSchema.safeParse(body);
      if (!parsed.success) return record(400, { error: { code: 'BAD_REQUEST', message: 'malformed heartbeat' } });
      owner.lastSeq = seq;
      owner.heartbeats += 1;
      const requested = this.requestInventoryNext || parsed.data.inventoryHash !== owner.inventoryHash;
      this.requestInventoryNext = false;
      return record(200, {
        state: 'connected',
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        inventoryRequested: requested,
      });
    }
    return record(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'method not allowed' } });
  }
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

/** Polls `check` until it is true; fails after a generous bound rather than asserting timing. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
