import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '@fabric/core/shared/clock';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { createAgentRoutes } from './agent/agent-routes';
import { createAuthRoutes } from './auth/auth-routes';
import { compose, type Services } from './composition';
import type { ApiConfig } from './env';
import { createExportRoutes } from './exports/export-routes';
import { ConcurrencyGate } from './http/concurrency-gate';
import { createConsoleLoad } from './http/console-load';
import { createHttpEdge, serverTimeouts } from './http/edge';
import { sendJson } from './http/request';
import { createNetworkAgentRoutes, NETWORK_POLICY_PATH } from './network/network-agent-routes';
import { startNetworkReconciler } from './network/network-reconciler';
import { startReplicationLoops } from './replication/replication-loop';
import { appRouter } from './routers/root';
import { assertRowLevelSecurityBinds } from './tenancy/app-database-url';
import { createContext } from './trpc/context';
import { scheduleBackgroundWork } from './workflows/background-work';

export interface RunningApi {
  url: string;
  server: Server;
  services: Services;
  close(): Promise<void>;
}

/**
 * One API process: tRPC at /api/trpc (console and automation), better-auth
 * at /api/auth, the agent protocol at /agent/v1, /healthz; plus the host
 * monitor and the host-event listener. Stateless apart from its connections:
 * run as many as needed against one Postgres.
 */
export async function startApi(
  config: ApiConfig,
  options: { clock?: Clock; monitor?: boolean } = {},
): Promise<RunningApi> {
  const services = compose(config, options.clock);
  // Transport code gets services only: no Prisma client, pool or unit of work to reach around them.
  const { prisma: _prisma, pool: _pool, agentPool: _agentPool, uow: _uow, ...routerServices } = services;
  const log = (line: string) => {
    if (config.logLevel !== 'silent' && config.logLevel !== 'error') console.log(`[api] ${line}`);
  };
  // Row-level security binds only a role that owns nothing: refuse to run otherwise.
  await assertRowLevelSecurityBinds(services.prisma).catch(async (error: unknown) => {
    await Promise.allSettled([services.prisma.$disconnect(), services.pool.end(), services.agentPool.end()]);
    throw error;
  });
  await services.hostEvents.start();

  // One tenant cannot slow the others: batch cap, per-user and per-tenant limits, a fair console gate.
  const consoleLoad = createConsoleLoad(config, (req: IncomingMessage) =>
    createContext(routerServices, req, config.load.streamSessionCheckMs),
  );
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/api/trpc/',
    maxBatchSize: config.load.maxBatchSize,
    // The console sends a query with a large input (a what-if of hundreds of VMs) as a POST body: in a URL it
    // passes Node's 16 KiB header limit (431).
    allowMethodOverride: true,
    createContext: ({ req }) => consoleLoad.contextFor(req),
    responseMeta: ({ errors }) => ({ headers: consoleLoad.retryAfterHeaders(errors) }),
  });
  const auth = createAuthRoutes({
    auth: services.auth,
    audit: services.uow.repos.audit,
    clock: services.clock,
    throttle: config.signIn,
    publicUrl: config.publicUrl,
    trustedProxies: config.trustedProxies,
  });
  const agent = createAgentRoutes({
    fabric: services.fabric,
    agentTasks: services.agentTasks,
    metering: services.metering,
    addressClasses: services.addressClasses,
    events: services.hostEvents,
    ha: services.haAgent,
    ingestGate: new ConcurrencyGate(config.ingest.concurrency, config.ingest.maxWaiting),
  });

  const exports = createExportRoutes(routerServices);
  const networkAgent = createNetworkAgentRoutes({
    fabric: services.fabric,
    network: services.network,
    events: services.hostEvents,
    traces: services.networkTraces,
  });

  // Headers, body deadline, CSRF: before any route (issue 9).
  const edge = createHttpEdge(config.http);
  const server = createServer(serverTimeouts(config.http), (req, res) => {
    const path = req.url ?? '/';
    const deadline = edge.open(req, res, path);
    if (!deadline) return;
    const handle = async () => {
      if (path.startsWith('/api/trpc/')) {
        // Read whole, within its size limit and deadline, before tRPC (or anything that waits in line) runs.
        if (!(await edge.readTrpcBody(req, res))) return;
        return consoleLoad.admission.trpc(req, res, () => trpc(req, res));
      }
      if (path.startsWith('/api/auth/')) return auth(req, res);
      if (path.startsWith('/api/exports/')) return consoleLoad.admission.export(req, res, () => exports(req, res));
      const networkPolicy = NETWORK_POLICY_PATH.exec(path.split('?')[0] ?? '');
      if (networkPolicy?.[1]) return networkAgent(req, res, networkPolicy[1], networkPolicy[2]);
      if (path === '/agent/v1' || path.startsWith('/agent/v1/')) return agent(req, res);
      if (path === '/healthz') {
        await services.prisma.$queryRaw`SELECT 1`;
        return sendJson(res, 200, { ok: true });
      }
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${path}` } });
    };
    handle().catch((error: unknown) => {
      // Answered 408 by the body deadline already: what the route did next has nowhere to go.
      if (deadline.expired) return;
      console.error('[api] request failed:', error);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
      else res.end();
    });
  });
  // Idle keep-alive connections (not requests) may stay a while; SSE pings keep proxies from closing streams.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;

  // Background work runs as scheduled workflows: each tick once across every API process.
  if (options.monitor !== false) {
    scheduleBackgroundWork(services, { monitorIntervalMs: config.monitorIntervalMs, log });
  }
  await services.workflows.launch();
  // Hyper-V Replica: the cycle scheduler and the health pass (due-time indexes; cycles are workflows, once each).
  const replicationLoops =
    options.monitor !== false
      ? startReplicationLoops({ replication: services.replication, cycleTickMs: 1_000, healthTickMs: 5_000, log })
      : { stop: async () => undefined };
  // Tenant networks: every host's compiled policy kept current (on VM changes, and a periodic level-triggered pass).
  const networkReconciler =
    options.monitor !== false
      ? startNetworkReconciler({ network: services.network, events: services.hostEvents, intervalMs: 2_000, log })
      : { stop: async () => undefined };

  return {
    url,
    server,
    services,
    async close() {
      await replicationLoops.stop();
      await networkReconciler.stop();
      await services.workflows.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.hostEvents.stop();
      await services.prisma.$disconnect();
      await services.pool.end();
      await services.agentPool.end();
    },
  };
}
