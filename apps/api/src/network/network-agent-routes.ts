import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FabricService } from '@fabric/core/fabric/fabric-service';
import { policyAckSchema } from '@fabric/core/network/network.schema';
import { traceAnswerSchema } from '@fabric/core/network/network-protocol.schema';
import type { NetworkService } from '@fabric/core/network/network-service';
import { sendJson } from '../http/request';
import type { AgentTraceBroker } from './trace-broker';

/** GET/POST /agent/v1/hosts/{hostId}/network-policy: the versioned policy channel; POST …/network-trace: trace answers (docs/agent-protocol.md, "Network policy", "Traces"). */
export const NETWORK_POLICY_PATH = /^\/agent\/v1\/hosts\/([0-9a-fA-F-]{36})\/network-(policy|trace)$/;
const MAX_WAIT_MS = 30_000;
const MAX_ACK_BYTES = 4_096;
/** A trace answer travels on to the asking API process in a Postgres NOTIFY (at most 8,000 bytes). */
const MAX_TRACE_ANSWER_BYTES = 6_000;

function bearerOf(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? null;
}

async function readBody(req: IncomingMessage, maxBytes = MAX_ACK_BYTES): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw Object.assign(new Error('too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The agent pulls its host's policy (deltas after the version it applied, or
 * the whole policy), long-polling while it is current; then acknowledges the
 * version and digest it applied. Only the host's own credential is accepted.
 * The same poll hands out trace questions for the host (answering at once
 * when one waits); the agent posts each result to `…/network-trace`.
 */
export function createNetworkAgentRoutes(deps: {
  fabric: FabricService;
  network: NetworkService;
  events: EventEmitter;
  traces: AgentTraceBroker;
}) {
  return async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    hostIdRaw: string,
    channel = 'policy',
  ): Promise<void> {
    const hostId = hostIdRaw.toLowerCase();
    try {
      const host = await deps.fabric.authenticateAgent(hostId, bearerOf(req), req.socket.remoteAddress ?? '');
      const url = new URL(req.url ?? '/', 'http://agent');
      if (channel === 'trace') return await answerTrace(req, res, host.id, deps.traces);
      if (req.method === 'GET') {
        const applied = Number(url.searchParams.get('applied') ?? '0');
        const waitMs = Math.min(Number(url.searchParams.get('waitMs') ?? '0'), MAX_WAIT_MS);
        if (!Number.isInteger(applied) || applied < 0 || !Number.isFinite(waitMs) || waitMs < 0) {
          return sendJson(res, 400, {
            error: { code: 'INVALID_QUERY', message: 'applied is a version (integer ≥ 0); waitMs is 0–30000' },
          });
        }
        let answer = await deps.network.pullPolicy(host.id, applied);
        if (answer.kind === 'current' && waitMs > 0 && !deps.traces.hasFor(host.id)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              deps.events.off('network-policy', onChange);
              deps.events.off('network-trace', onTrace);
              res.off('close', done);
              resolve();
            };
            const onChange = (hosts: string[]) => {
              if (hosts.includes(host.id)) done();
            };
            // A trace question for this host answers the poll at once: the agent is waiting on it.
            const onTrace = (traceHost: string) => {
              if (traceHost === host.id) done();
            };
            const timer = setTimeout(done, waitMs);
            deps.events.on('network-policy', onChange);
            deps.events.on('network-trace', onTrace);
            res.on('close', done);
          });
          if (res.destroyed) return;
          answer = await deps.network.pullPolicy(host.id, applied);
        }
        const traces = deps.traces.takeFor(host.id);
        return sendJson(res, 200, traces.length > 0 ? { ...answer, traces } : answer);
      }
      if (req.method === 'POST') {
        if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
          return sendJson(res, 415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send application/json' } });
        let parsed: unknown;
        try {
          parsed = JSON.parse(await readBody(req));
        } catch (error) {
          const status = (error as { status?: number }).status === 413 ? 413 : 400;
          return sendJson(res, status, {
            error: { code: 'INVALID_BODY', message: `An acknowledgement is JSON of at most ${MAX_ACK_BYTES} bytes` },
          });
        }
        const ack = policyAckSchema.safeParse(parsed);
        if (!ack.success)
          return sendJson(res, 400, {
            error: { code: 'INVALID_BODY', message: ack.error.issues.map((i) => i.message).join('; ') },
          });
        return sendJson(res, 200, await deps.network.ackPolicy(host.id, ack.data.version, ack.data.digest));
      }
      return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET or POST' } });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'CREDENTIAL_INVALID' || code === 'HOST_NOT_FOUND' || code === 'HOST_MISMATCH')
        return sendJson(res, 401, { error: { code, message: 'This host credential is not valid' } });
      if (res.destroyed) return;
      console.error('[agent-api] network-policy failed:', error);
      return sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error; retry later' } });
    }
  };
}

/** POST …/network-trace: the agent's result for a trace question it was handed (the host's own only). */
async function answerTrace(
  req: IncomingMessage,
  res: ServerResponse,
  hostId: string,
  traces: AgentTraceBroker,
): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use POST' } });
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
    return sendJson(res, 415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send application/json' } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readBody(req, MAX_TRACE_ANSWER_BYTES));
  } catch (error) {
    const status = (error as { status?: number }).status === 413 ? 413 : 400;
    return sendJson(res, status, {
      error: { code: 'INVALID_BODY', message: `A trace answer is JSON of at most ${MAX_TRACE_ANSWER_BYTES} bytes` },
    });
  }
  const answer = traceAnswerSchema.safeParse(parsed);
  if (!answer.success)
    return sendJson(res, 400, {
      error: { code: 'INVALID_BODY', message: answer.error.issues.map((i) => i.message).join('; ') },
    });
  // false: asked of another host, unknown, or past its deadline (the asker already fell back).
  return sendJson(res, 200, { accepted: traces.answer(hostId, answer.data) });
}
