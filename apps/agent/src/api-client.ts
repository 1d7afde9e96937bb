import {
  agentErrorSchema,
  type HeartbeatRequest,
  type HeartbeatResponse,
  heartbeatResponseSchema,
  type InventoryRequest,
  type InventoryResponse,
  inventoryResponseSchema,
  type RegisterRequest,
  type RegisterResponse,
  registerResponseSchema,
} from '@fabric/core/fabric/agent-protocol.schema';
import {
  type SamplesRequest,
  type SamplesResponse,
  type SampleVerdict,
  samplesResponseSchema,
} from '@fabric/core/metering/sample-protocol.schema';
import {
  type NextTasksRequest,
  type NextTasksResponse,
  nextTasksResponseSchema,
  type TaskReport,
  type TaskReportResponse,
  taskReportResponseSchema,
} from '@fabric/core/tasks/task-protocol.schema';
import type { z } from 'zod';

/**
 * A thin, typed client of the /agent/v1 endpoints. Every failure becomes an
 * `AgentApiError` whose `kind` tells the reporter what to do:
 * - `unreachable`: no HTTP answer (refused, reset, DNS, timeout) → retry with backoff;
 * - `http`: the API answered 4xx/5xx; `status` and the API's stable `code` decide;
 * - `bad-response`: a 2xx whose body is not what the protocol says (a proxy's
 *   HTML page, a different API version) → retry with backoff, it is not ours to fix.
 */
export type AgentApiErrorKind = 'unreachable' | 'http' | 'bad-response';

export class AgentApiError extends Error {
  constructor(
    readonly kind: AgentApiErrorKind,
    message: string,
    /** HTTP status, 0 when there was no answer. */
    readonly status: number,
    /** The API's error code (`REPLAYED`, `INVALID_TOKEN`, …), or a local one for non-HTTP failures. */
    readonly code: string,
    /** `422 IMPLAUSIBLE_SAMPLES`: the batch's refused samples, each with its reason. */
    readonly refusedSamples: readonly SampleVerdict[] = [],
  ) {
    super(message);
    this.name = 'AgentApiError';
  }

  /** Worth trying again later unchanged: the API is down, overloaded or answered garbage. */
  get retryable(): boolean {
    return this.kind !== 'http' || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export interface AgentApiClientOptions {
  /** Base URL of the API, e.g. http://localhost:4000; the client appends /agent/v1/…. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per request; a heartbeat that takes longer than this is as good as lost. */
  timeoutMs?: number;
}

export class AgentApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: AgentApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.send('POST', '/agent/v1/register', undefined, body, registerResponseSchema, signal);
  }

  putInventory(
    hostId: string,
    credential: string,
    body: InventoryRequest,
    signal?: AbortSignal,
  ): Promise<InventoryResponse> {
    const route = `/agent/v1/hosts/${encodeURIComponent(hostId)}/inventory`;
    return this.send('PUT', route, credential, body, inventoryResponseSchema, signal);
  }

  heartbeat(
    hostId: string,
    credential: string,
    body: HeartbeatRequest,
    signal?: AbortSignal,
  ): Promise<HeartbeatResponse> {
    const route = `/agent/v1/hosts/${encodeURIComponent(hostId)}/heartbeat`;
    return this.send('POST', route, credential, body, heartbeatResponseSchema, signal);
  }

  /** Long poll: the API holds it up to `waitMs`, so it gets that much time on top of the usual timeout. */
  nextTasks(
    hostId: string,
    credential: string,
    body: NextTasksRequest,
    signal?: AbortSignal,
  ): Promise<NextTasksResponse> {
    const route = `/agent/v1/hosts/${encodeURIComponent(hostId)}/tasks/next`;
    return this.send('POST', route, credential, body, nextTasksResponseSchema, signal, this.timeoutMs + body.waitMs);
  }

  reportTask(
    hostId: string,
    credential: string,
    taskId: string,
    body: TaskReport,
    signal?: AbortSignal,
  ): Promise<TaskReportResponse> {
    const route = `/agent/v1/hosts/${encodeURIComponent(hostId)}/tasks/${encodeURIComponent(taskId)}/report`;
    return this.send('POST', route, credential, body, taskReportResponseSchema, signal);
  }

  /** A batch of metering samples (docs/agent-protocol.md, "Samples"). */
  sendSamples(
    hostId: string,
    credential: string,
    body: SamplesRequest,
    signal?: AbortSignal,
  ): Promise<SamplesResponse> {
    const route = `/agent/v1/hosts/${encodeURIComponent(hostId)}/samples`;
    return this.send('POST', route, credential, body, samplesResponseSchema, signal);
  }

  private async send<T>(
    method: 'POST' | 'PUT',
    route: string,
    credential: string | undefined,
    body: unknown,
    responseSchema: z.ZodType<T>,
    signal: AbortSignal | undefined,
    timeoutMs: number = this.timeoutMs,
  ): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${route}`, {
        method,
        headers,
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      // A stop request is not an API failure: let the caller see the abort as such.
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
      throw new AgentApiError('unreachable', reason, 0, 'UNREACHABLE');
    }
    const json = parseJson(text);
    if (!response.ok) {
      const parsed = agentErrorSchema.safeParse(json);
      if (parsed.success) {
        const { message, code, samples } = parsed.data.error;
        throw new AgentApiError('http', message, response.status, code, samples ?? []);
      }
      // A 502 from a load balancer carries no protocol body; keep the status, invent nothing.
      throw new AgentApiError('http', `HTTP ${response.status} ${response.statusText}`.trim(), response.status, 'HTTP');
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      throw new AgentApiError(
        'bad-response',
        `unexpected response to ${method} ${route} (HTTP ${response.status}): not an agent protocol v1 body`,
        response.status,
        'BAD_RESPONSE',
      );
    }
    return parsed.data;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    if (cause instanceof Error) {
      const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
      return code ? `${code}: ${cause.message}` : cause.message;
    }
    return error.message;
  }
  return String(error);
}
