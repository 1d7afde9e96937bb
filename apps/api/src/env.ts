import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { validateHeartbeatPolicy } from '@fabric/core/fabric/host-state';
import type { SignInThrottlePolicy } from '@fabric/core/identity/sign-in-throttle';
import { z } from 'zod';
import { appDatabaseUrl } from './tenancy/app-database-url';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z
  .object({
    DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
    /**
     * The API's own connections, as a role that owns no table (row-level
     * security applies to it). Default: DATABASE_URL switched to the role
     * fabric_app (docs/row-level-security.md).
     */
    DATABASE_APP_URL: z.string().url('DATABASE_APP_URL must be a postgresql:// URL').optional(),
    FABRIC_API_HOST: z.string().default('127.0.0.1'),
    FABRIC_API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /** The browser-facing origin (the web console), used for auth cookies and CSRF checks. */
    FABRIC_PUBLIC_URL: z.string().url().default('http://localhost:3000'),
    /** The URL agents use to reach this API, shown in the copyable agent command. */
    FABRIC_AGENT_API_URL: z.string().url().optional(),
    /**
     * Further origins (comma-separated URLs) the console is served from, besides FABRIC_PUBLIC_URL:
     * cookie-authenticated requests that change something must come from one of them (http/cross-site.ts).
     */
    FABRIC_TRUSTED_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .refine((urls) => urls.every((u) => URL.canParse(u)), 'FABRIC_TRUSTED_ORIGINS: URLs, comma-separated'),
    /** A request's headers must arrive within this (slow-header clients are cut with 408). */
    FABRIC_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).default(10_000),
    /** A request's body must arrive within this of its headers (http/body-deadline.ts), on every route. */
    FABRIC_HTTP_BODY_TIMEOUT_MS: z.coerce.number().int().min(500).default(15_000),
    /** Largest tRPC request body (a batch of calls); larger ones are answered 413 unread. */
    FABRIC_TRPC_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    BETTER_AUTH_SECRET: z.string().min(32, 'BETTER_AUTH_SECRET must be at least 32 characters'),
    FABRIC_HEARTBEAT_INTERVAL_MS: int(10_000),
    FABRIC_SUSPECT_AFTER_MISSED: int(3),
    FABRIC_FAILED_AFTER_MISSED: int(6),
    /** Restart rounds a host's recovery (or each later wait) runs before it hands its waiting VMs over (ha/recover-host.ts). */
    FABRIC_HA_MAX_ROUNDS: int(1800),
    /** How often the host monitor looks for silent hosts; defaults to half a heartbeat interval. */
    FABRIC_MONITOR_INTERVAL_MS: z.coerce.number().int().positive().optional(),
    /** Failed sign-ins of one account from one address, of one account, and from one address (identity/sign-in-throttle.ts). */
    FABRIC_SIGNIN_MAX_FAILURES: int(5),
    FABRIC_SIGNIN_MAX_ACCOUNT_FAILURES: int(20),
    FABRIC_SIGNIN_MAX_SOURCE_FAILURES: int(20),
    FABRIC_SIGNIN_WINDOW_MINUTES: int(15),
    /**
     * Comma-separated addresses of proxies whose X-Forwarded-For names the
     * client: the console's (it forwards /api/*). Default: this machine, where
     * `npm start` runs the console. Next.js passes a client's own
     * X-Forwarded-For on unchanged, so an exposed console belongs behind a
     * reverse proxy that overwrites it (nginx: proxy_set_header X-Forwarded-For
     * $remote_addr), and that proxy's address belongs here too.
     */
    FABRIC_TRUSTED_PROXIES: z
      .string()
      .default('127.0.0.1,::1')
      .transform((value) =>
        value
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      )
      .refine(
        (addresses) => addresses.every((a) => isIP(a) !== 0),
        'FABRIC_TRUSTED_PROXIES: IP addresses, comma-separated',
      ),
    FABRIC_DB_POOL_SIZE: int(10),
    /** How long a task handed to an agent is its own before it is handed out again. */
    FABRIC_TASK_LEASE_MS: int(60_000),
    /** Raw metering samples are kept this many days (rollups stay). */
    FABRIC_SAMPLE_RETENTION_DAYS: int(35),
    /** Sample batches written at once per API process; more wait unread (memory stays bounded). */
    FABRIC_INGEST_CONCURRENCY: int(4),
    /** Batches that may wait; past this an agent is told 503 + Retry-After and keeps them buffered. */
    FABRIC_INGEST_MAX_WAITING: int(256),
    /** Most calls in one tRPC batch; the console's client sends at most this many per request. */
    FABRIC_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(16),
    /**
     * Console calls (tRPC queries and mutations) running at once, shared fairly between tenants:
     * fewer than the database pool's connections, so agents always find one. Default: pool size − 3, at least 2.
     */
    FABRIC_CONSOLE_CONCURRENCY: z.coerce.number().int().positive().optional(),
    /**
     * Per user and per tenant (http/call-limits.ts): units of work a second (a cheap read costs 1,
     * a year's cost series 10: http/procedure-costs.ts), the burst, requests in flight and open live streams.
     */
    FABRIC_USER_RATE: int(20),
    FABRIC_USER_BURST: int(200),
    FABRIC_USER_IN_FLIGHT: int(8),
    FABRIC_USER_STREAMS: int(8),
    FABRIC_TENANT_RATE: int(40),
    FABRIC_TENANT_BURST: int(400),
    FABRIC_TENANT_IN_FLIGHT: int(16),
    FABRIC_TENANT_STREAMS: int(64),
    /** A live stream reads its session again this often and ends once it is signed out or revoked. */
    FABRIC_STREAM_SESSION_CHECK_MS: int(10_000),
    /**
     * This process's name for its durable workflows, stable across restarts so
     * a restarted process resumes its own at once. Default: api-<hostname>-<port>.
     */
    FABRIC_EXECUTOR_ID: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'FABRIC_EXECUTOR_ID: letters, digits, . _ : - (at most 100)')
      .optional(),
    /** A process silent this long is taken for dead: a live one resumes its workflows. */
    FABRIC_EXECUTOR_LEASE_MS: z.coerce.number().int().min(300).default(30_000),
    /** Connections of the workflow engine's own pool (DBOS). */
    FABRIC_WORKFLOW_POOL_SIZE: z.coerce.number().int().min(2).default(6),
    /** How long closing a month answers synchronously before returning 'closing' with its task. */
    FABRIC_CLOSE_WAIT_MS: z.coerce.number().int().min(0).default(15_000),
    /** Tenants rated and written per step of a month close. */
    FABRIC_CLOSE_TENANTS_PER_STEP: z.coerce.number().int().min(1).max(1000).default(25),
    /**
     * The hosts are simulated agents with simulated BMCs (`npm start`, the browser tests set 1): the console
     * then offers host failure drills (ha/power-drill.ts). Never on a fabric of real hosts.
     */
    FABRIC_SIMULATED_HOSTS: z
      .enum(['0', '1'], { error: 'FABRIC_SIMULATED_HOSTS must be 0 or 1' })
      .default('0')
      .transform((v) => v === '1'),
    FABRIC_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    const problem = validateHeartbeatPolicy({
      heartbeatIntervalMs: env.FABRIC_HEARTBEAT_INTERVAL_MS,
      suspectAfterMissed: env.FABRIC_SUSPECT_AFTER_MISSED,
      failedAfterMissed: env.FABRIC_FAILED_AFTER_MISSED,
    });
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['FABRIC_HEARTBEAT_INTERVAL_MS'] });
    // The monitor ticks on whole seconds (a scheduled workflow): it must tick inside the
    // suspect window, or a silent host would go from connected straight to failed.
    const tickMs = monitorTickSeconds(monitorIntervalOf(env)) * 1000;
    const windowMs =
      (env.FABRIC_FAILED_AFTER_MISSED - env.FABRIC_SUSPECT_AFTER_MISSED) * env.FABRIC_HEARTBEAT_INTERVAL_MS;
    if (!problem && tickMs >= windowMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['FABRIC_HEARTBEAT_INTERVAL_MS'],
        message: `the host monitor ticks every ${tickMs / 1000} s (whole seconds), not shorter than the ${windowMs} ms between suspect and failed: raise FABRIC_HEARTBEAT_INTERVAL_MS or the gap between FABRIC_SUSPECT_AFTER_MISSED and FABRIC_FAILED_AFTER_MISSED`,
      });
    }
  });

function monitorIntervalOf(env: { FABRIC_MONITOR_INTERVAL_MS?: number; FABRIC_HEARTBEAT_INTERVAL_MS: number }) {
  return env.FABRIC_MONITOR_INTERVAL_MS ?? Math.max(100, Math.floor(env.FABRIC_HEARTBEAT_INTERVAL_MS / 2));
}

/** The monitor's tick in whole seconds (DBOS schedules fire on seconds), at least one. */
export function monitorTickSeconds(monitorIntervalMs: number): number {
  return Math.max(1, Math.round(monitorIntervalMs / 1000));
}

export interface ApiConfig {
  /** The owner's: migrations and the workflow engine (DBOS). */
  databaseUrl: string;
  /** The API's queries: a role without the tables, so row-level security holds. */
  appDatabaseUrl: string;
  host: string;
  port: number;
  publicUrl: string;
  agentApiUrl: string;
  /** The HTTP edge (issue 9): request deadlines, the tRPC body limit, the origins trusted for CSRF. */
  http: { headersTimeoutMs: number; bodyTimeoutMs: number; trpcMaxBodyBytes: number; trustedOrigins: string[] };
  authSecret: string;
  heartbeat: { heartbeatIntervalMs: number; suspectAfterMissed: number; failedAfterMissed: number };
  /** HA recovery: restart rounds per workflow before waiting VMs are handed over to the next one. */
  haMaxRounds: number;
  monitorIntervalMs: number;
  signIn: SignInThrottlePolicy;
  trustedProxies: ReadonlySet<string>;
  dbPoolSize: number;
  taskLeaseMs: number;
  sampleRetentionDays: number;
  ingest: { concurrency: number; maxWaiting: number };
  /** Console and automation load (issue 9, class 2): batch cap, fair gate, per-user and per-tenant limits. */
  load: {
    maxBatchSize: number;
    consoleConcurrency: number;
    user: { burst: number; refillPerSecond: number; inFlight: number; streams: number };
    tenant: { burst: number; refillPerSecond: number; inFlight: number; streams: number };
    streamSessionCheckMs: number;
  };
  /** Simulated hosts (npm start, the browser tests): host failure drills are offered. */
  simulatedHosts: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  workflows: {
    executorId: string;
    executorLeaseMs: number;
    poolSize: number;
    closeWaitMs: number;
    closeTenantsPerStep: number;
  };
}

/** Parses the environment once at start; a bad value stops the process with a message naming it. */
export function parseEnv(source: Record<string, string | undefined>): ApiConfig {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return {
    databaseUrl: env.DATABASE_URL,
    appDatabaseUrl: appDatabaseUrl(env.DATABASE_URL, env.DATABASE_APP_URL),
    host: env.FABRIC_API_HOST,
    port: env.FABRIC_API_PORT,
    publicUrl: env.FABRIC_PUBLIC_URL,
    agentApiUrl: env.FABRIC_AGENT_API_URL ?? `http://${env.FABRIC_API_HOST}:${env.FABRIC_API_PORT}`,
    http: {
      headersTimeoutMs: env.FABRIC_HTTP_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: env.FABRIC_HTTP_BODY_TIMEOUT_MS,
      trpcMaxBodyBytes: env.FABRIC_TRPC_MAX_BODY_BYTES,
      trustedOrigins: [env.FABRIC_PUBLIC_URL, ...env.FABRIC_TRUSTED_ORIGINS],
    },
    authSecret: env.BETTER_AUTH_SECRET,
    heartbeat: {
      heartbeatIntervalMs: env.FABRIC_HEARTBEAT_INTERVAL_MS,
      suspectAfterMissed: env.FABRIC_SUSPECT_AFTER_MISSED,
      failedAfterMissed: env.FABRIC_FAILED_AFTER_MISSED,
    },
    haMaxRounds: env.FABRIC_HA_MAX_ROUNDS,
    monitorIntervalMs: monitorIntervalOf(env),
    signIn: {
      maxFailures: env.FABRIC_SIGNIN_MAX_FAILURES,
      maxAccountFailures: env.FABRIC_SIGNIN_MAX_ACCOUNT_FAILURES,
      maxSourceFailures: env.FABRIC_SIGNIN_MAX_SOURCE_FAILURES,
      windowMs: env.FABRIC_SIGNIN_WINDOW_MINUTES * 60_000,
    },
    trustedProxies: new Set(env.FABRIC_TRUSTED_PROXIES),
    dbPoolSize: env.FABRIC_DB_POOL_SIZE,
    taskLeaseMs: env.FABRIC_TASK_LEASE_MS,
    sampleRetentionDays: env.FABRIC_SAMPLE_RETENTION_DAYS,
    ingest: { concurrency: env.FABRIC_INGEST_CONCURRENCY, maxWaiting: env.FABRIC_INGEST_MAX_WAITING },
    load: {
      maxBatchSize: env.FABRIC_MAX_BATCH_SIZE,
      consoleConcurrency: env.FABRIC_CONSOLE_CONCURRENCY ?? Math.max(2, env.FABRIC_DB_POOL_SIZE - 3),
      user: {
        burst: env.FABRIC_USER_BURST,
        refillPerSecond: env.FABRIC_USER_RATE,
        inFlight: env.FABRIC_USER_IN_FLIGHT,
        streams: env.FABRIC_USER_STREAMS,
      },
      tenant: {
        burst: env.FABRIC_TENANT_BURST,
        refillPerSecond: env.FABRIC_TENANT_RATE,
        inFlight: env.FABRIC_TENANT_IN_FLIGHT,
        streams: env.FABRIC_TENANT_STREAMS,
      },
      streamSessionCheckMs: env.FABRIC_STREAM_SESSION_CHECK_MS,
    },
    simulatedHosts: env.FABRIC_SIMULATED_HOSTS,
    logLevel: env.FABRIC_LOG_LEVEL,
    workflows: {
      // Port 0 (tests) has no stable identity: such a process gets a name of its own.
      executorId:
        env.FABRIC_EXECUTOR_ID ??
        (env.FABRIC_API_PORT === 0
          ? `api-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
          : `api-${hostname()}-${env.FABRIC_API_PORT}`),
      executorLeaseMs: env.FABRIC_EXECUTOR_LEASE_MS,
      poolSize: env.FABRIC_WORKFLOW_POOL_SIZE,
      closeWaitMs: env.FABRIC_CLOSE_WAIT_MS,
      closeTenantsPerStep: env.FABRIC_CLOSE_TENANTS_PER_STEP,
    },
  };
}
