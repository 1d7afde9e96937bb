import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AGENT_MAX_BODY_BYTES,
  AGENT_PROTOCOL_VERSION,
  heartbeatRequestSchema,
  inventoryRequestSchema,
  registerRequestSchema,
} from '@fabric/core/fabric/agent-protocol.schema';
import type { FabricService } from '@fabric/core/fabric/fabric-service';
import type { HaAgentChannel } from '@fabric/core/ha/ha-agent-channel';
import type { AddressClassService } from '@fabric/core/metering/address-class-service';
import { SamplesRefusedError } from '@fabric/core/metering/metering.errors';
import type { MeteringService } from '@fabric/core/metering/metering-service';
import { SAMPLES_MAX_BODY_BYTES, samplesRequestSchema } from '@fabric/core/metering/sample-protocol.schema';
import { CoreError } from '@fabric/core/shared/errors';
import type { AgentTaskQueue } from '@fabric/core/tasks/agent-task-queue';
import { nextTasksRequestSchema, taskReportSchema } from '@fabric/core/tasks/task-protocol.schema';
import type { z } from 'zod';
import type { ConcurrencyGate } from '../http/concurrency-gate';
import { checkJsonShape, JSON_SHAPE_LIMITS } from '../http/json-shape';
import { BodyTooLargeError, clientAddress, readBody, sendJson } from '../http/request';
import { CORE_ERROR_CODES, databaseValueErrorCode, HTTP_STATUS, isCoreErrorCode } from '../trpc/error-map';

/**
 * The agent protocol, v1 (docs/agent-protocol.md): plain HTTP + JSON so
 * agents in any language can speak it. Every refusal is a 4xx with
 * `{ error: { code, message } }`, decided before anything is written.
 */
class AgentHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HOST_PATH = /^\/agent\/v1\/hosts\/([0-9a-fA-F-]{36})\/(heartbeat|inventory|tasks\/next|samples)$/;
const REPORT_PATH = /^\/agent\/v1\/hosts\/([0-9a-fA-F-]{36})\/tasks\/([0-9a-fA-F-]{36})\/report$/;

/** Resolves when `hostId` gets tasks queued (or after `ms`, or when the client leaves). */
function waitForTasks(events: EventEmitter, hostId: string, ms: number, res: ServerResponse): Promise<void> {
  // The request has been read whole by now (so it reads as destroyed); the
  // response is what tells that the client went away.
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      events.off('tasks', onTasks);
      res.off('close', done);
      resolve();
    };
    const onTasks = (queuedFor: string) => {
      if (queuedFor === hostId) done();
    };
    const timer = setTimeout(done, ms);
    events.on('tasks', onTasks);
    res.on('close', done);
  });
}

/** Where a key or string of a JSON value holds U+0000, or null. */
function nulPath(value: unknown, at: (string | number)[]): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\0') ? at : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = nulPath(v, [...at, i]);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key.includes('\0')) return [...at, '(a key)'];
      const found = nulPath(v, [...at, key]);
      if (found) return found;
    }
  }
  return null;
}

async function parseJson<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
  limit = AGENT_MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new AgentHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  }
  let raw: Buffer;
  try {
    raw = await readBody(req, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new AgentHttpError(413, 'PAYLOAD_TOO_LARGE', `Body exceeds the ${limit} byte limit`);
    }
    throw error;
  }
  // Before JSON.parse: deep nesting costs it CPU out of all proportion to the body's size (json-shape.ts).
  // A full sample batch (2,000 samples with their ACL counters) may hold more values than a console call.
  const shape = checkJsonShape(raw, {
    maxDepth: JSON_SHAPE_LIMITS.maxDepth,
    maxValues: Math.max(JSON_SHAPE_LIMITS.maxValues, Math.floor(limit / 8)),
  });
  if (!shape.ok) throw new AgentHttpError(400, 'MALFORMED_JSON', shape.message);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AgentHttpError(400, 'MALFORMED_JSON', 'Body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
      .join('; ');
    throw new AgentHttpError(400, 'INVALID_BODY', `Invalid request: ${issues}`);
  }
  // Postgres stores no NUL character in text or jsonb; the schemas refuse it in every named field, and
  // this in the rest (the keys of a task's free-form result): a report carrying one had its seq accepted,
  // then its write refused, leaving the host row changed.
  const nulAt = raw.includes('\\u0000') ? nulPath(parsed.data, []) : null;
  if (nulAt) {
    throw new AgentHttpError(
      400,
      'INVALID_BODY',
      `Invalid request: ${nulAt.join('.') || 'body'}: control characters are not allowed (a NUL, \\u0000)`,
    );
  }
  return parsed.data;
}

function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

export function createAgentRoutes(deps: {
  fabric: FabricService;
  agentTasks: AgentTaskQueue;
  metering: MeteringService;
  addressClasses: Pick<AddressClassService, 'forAgents'>;
  events: EventEmitter;
  /** Bounds sample batches in flight (read, parsed, written): memory stays flat under any load. */
  ingestGate?: ConcurrencyGate;
  /** High availability: isolation settings, VMs to discard and peers seen, on each heartbeat. */
  ha?: Pick<HaAgentChannel, 'onHeartbeat'>;
}) {
  const { fabric, agentTasks, metering, addressClasses, events, ingestGate, ha } = deps;

  return async function handleAgent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const source = clientAddress(req);
    try {
      if (path === '/agent/v1' && req.method === 'GET') {
        return sendJson(res, 200, {
          protocol: 'fabric-agent',
          version: AGENT_PROTOCOL_VERSION,
          maxBodyBytes: AGENT_MAX_BODY_BYTES,
          endpoints: [
            'POST /agent/v1/register',
            'PUT /agent/v1/hosts/{hostId}/inventory',
            'POST /agent/v1/hosts/{hostId}/heartbeat',
          ],
        });
      }
      if (path === '/agent/v1/register') {
        if (req.method !== 'POST') throw new AgentHttpError(405, 'METHOD_NOT_ALLOWED', 'Use POST');
        const body = await parseJson(req, registerRequestSchema);
        return sendJson(res, 201, await fabric.registerHost(body, source));
      }
      const report = REPORT_PATH.exec(path);
      if (report?.[1] && report[2]) {
        if (req.method !== 'POST') throw new AgentHttpError(405, 'METHOD_NOT_ALLOWED', 'Use POST');
        const host = await fabric.authenticateAgent(report[1].toLowerCase(), bearerOf(req), source);
        const body = await parseJson(req, taskReportSchema);
        await fabric.acceptMessage(host, body.seq);
        return sendJson(res, 200, await agentTasks.reportTask(host, report[2].toLowerCase(), body));
      }
      const match = HOST_PATH.exec(path);
      if (match?.[1] && match[2]) {
        const [, hostId, action] = match;
        const expected = action === 'inventory' ? 'PUT' : 'POST';
        if (req.method !== expected) throw new AgentHttpError(405, 'METHOD_NOT_ALLOWED', `Use ${expected}`);
        // Authenticate before reading the body: an unknown caller gets nothing parsed.
        if (action === 'samples') {
          // The hot path (every host, every interval): the credential is verified from a short cache and
          // checked again by the write itself, which also accepts `seq`, all in one statement.
          const agent = await fabric.authenticateAgentForWrite(hostId.toLowerCase(), bearerOf(req), source);
          // A place in line (bounded), then the whole body within the body deadline, and only then a
          // writer's slot: a host that trickles its body holds a place, never a writer (issue 9).
          const place = ingestGate ? ingestGate.tryReserve() : { enter: async () => () => undefined, leave() {} };
          if (!place) {
            res.setHeader('retry-after', '2');
            throw new AgentHttpError(503, 'BUSY', 'The API is taking in other samples; keep these and send them again');
          }
          let body: z.infer<typeof samplesRequestSchema>;
          try {
            body = await parseJson(req, samplesRequestSchema, SAMPLES_MAX_BODY_BYTES);
          } catch (error) {
            place.leave();
            throw error;
          }
          const release = await place.enter();
          try {
            return sendJson(res, 200, await metering.ingest(agent, body));
          } finally {
            release();
          }
        }
        if (action === 'heartbeat') {
          // The other hot path (10,000 hosts every 10 s): as for samples, the credential comes from the short
          // cache and the write checks it again.
          const agent = await fabric.authenticateAgentForWrite(hostId.toLowerCase(), bearerOf(req), source);
          const body = await parseJson(req, heartbeatRequestSchema);
          const answer = await fabric.heartbeat(agent, body);
          const haAnswer = ha ? await ha.onHeartbeat(agent.host.id, body.ha) : undefined;
          return sendJson(res, 200, {
            ...answer,
            meteredAcls: await addressClasses.forAgents(),
            ...(haAnswer ? { ha: haAnswer } : {}),
          });
        }
        const host = await fabric.authenticateAgent(hostId.toLowerCase(), bearerOf(req), source);
        if (action === 'tasks/next') {
          const body = await parseJson(req, nextTasksRequestSchema);
          await fabric.acceptMessage(host, body.seq);
          // Long poll: answer at once when work is queued, else when some arrives or the wait ends.
          let tasks = await agentTasks.claimTasks(host.id, body);
          if (!tasks.length && body.waitMs > 0) {
            await waitForTasks(events, host.id, body.waitMs, res);
            if (res.destroyed) return;
            tasks = await agentTasks.claimTasks(host.id, body);
          }
          return sendJson(res, 200, { tasks });
        }
        const body = await parseJson(req, inventoryRequestSchema);
        return sendJson(res, 200, await fabric.reportInventory(host, body));
      }
      throw new AgentHttpError(404, 'NOT_FOUND', `No agent endpoint ${req.method} ${path}`);
    } catch (error) {
      if (error instanceof AgentHttpError) {
        return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
      }
      if (error instanceof CoreError && isCoreErrorCode(error.code)) {
        const status = HTTP_STATUS[CORE_ERROR_CODES[error.code]] ?? 400;
        // Refused samples come with a verdict each, so an agent can send the rest again without them.
        const details = error instanceof SamplesRefusedError ? { samples: error.samples } : {};
        return sendJson(res, status, { error: { code: error.code, message: error.message, ...details } });
      }
      // A client that went away mid-request (or a server shutting down) is not an error.
      if (res.destroyed || (error instanceof Error && error.message === 'aborted')) return;
      const valueError = databaseValueErrorCode(error);
      if (valueError) {
        // A 400, not a 500 the agent would retry for ever; but a schema should have refused it.
        console.warn(`[agent-api] ${path}: missing input validation, the database refused a value (${valueError})`);
        return sendJson(res, 400, {
          error: { code: 'INVALID_BODY', message: 'A value in the request cannot be stored' },
        });
      }
      console.error('[agent-api] request failed:', error);
      return sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error; retry later' } });
    }
  };
}
