import { afterAll, afterEach, beforeAll } from 'vitest';
import { ApiClient } from '../testing/api-client';
import { type ApiProcess, spawnApi, testAuthSecret } from '../testing/api-process';
import { createTestDatabase, startTestApi } from '../testing/harness';
import { type DemoLogin, demoUser, seedAndSignIn } from '../testing/seed';
import { FAST_HA, HaKit, ROOMY_QUOTA, tcpProxy } from './ha-test-kit';

export interface HaApiProcessOptions {
  /** The API processes' DBOS executor id (each restart keeps it, as a restarted server would). */
  readonly executorId: string;
  /** The cluster the test's hosts join. */
  readonly clusterName: string;
  /** The cluster's HA settings, over FAST_HA. */
  readonly settings: Record<string, unknown>;
  /** More to print when a test fails, after the agents' and before the API processes' output. */
  readonly onFailure?: () => Promise<void>;
}

/**
 * A control plane that a test can kill and start again: the API runs as a process of its own on a
 * fresh database (seeded in-process first: demo users, a roomy quota for Blue Corp, one cluster with
 * the given HA settings), and agents and the test reach it through a TCP proxy that follows it to
 * its new port when `api()` starts another. Registers its own vitest hooks; call it at module level.
 */
export function useHaApiProcess(options: HaApiProcessOptions) {
  const authSecret = testAuthSecret();
  const processes: ApiProcess[] = [];
  let proxy: ReturnType<typeof tcpProxy> | undefined;
  const fx = {
    databaseUrl: '',
    proxyUrl: '',
    clusterId: '',
    c: {} as Record<DemoLogin, ApiClient>,
    processes,
    kit: undefined as unknown as HaKit,
    /** Starts an API process on the database and points the proxy at it. */
    async api(): Promise<ApiProcess> {
      const started = await spawnApi({
        databaseUrl: fx.databaseUrl,
        authSecret,
        executorId: options.executorId,
        env: { FABRIC_HEARTBEAT_INTERVAL_MS: '1000', FABRIC_HA_DIR: fx.kit.haDir },
      });
      processes.push(started);
      proxy?.retarget(Number(new URL(started.url).port));
      return started;
    },
    /** The API process started last. */
    current(): ApiProcess {
      return processes.at(-1) as ApiProcess;
    },
  };
  fx.kit = new HaKit({ apiUrl: () => fx.proxyUrl, c: () => fx.c, clusterId: () => fx.clusterId });

  const signIn = (login: DemoLogin) => {
    const user = demoUser(login);
    return ApiClient.signIn(fx.proxyUrl, user.email, user.password);
  };

  beforeAll(async () => {
    process.env.FABRIC_HA_DIR = fx.kit.haDir;
    process.env.FABRIC_HA_PEER_MS = '300';
    fx.databaseUrl = await createTestDatabase();
    const setup = await startTestApi({
      databaseUrl: fx.databaseUrl,
      monitor: false,
      env: { BETTER_AUTH_SECRET: authSecret },
    });
    try {
      const s = await seedAndSignIn(setup);
      const tenants = await s.admin.query<{ id: string; name: string }[]>('tenants.list');
      const blueId = tenants.find((t) => t.name === 'Blue Corp')?.id ?? '';
      await s.admin.mutate('quotas.set', { tenantId: blueId, quota: ROOMY_QUOTA });
      fx.clusterId = (await s.admin.mutate<{ id: string }>('clusters.create', { name: options.clusterName })).id;
    } finally {
      await setup.close();
    }
    proxy = tcpProxy(0);
    fx.proxyUrl = `http://127.0.0.1:${await proxy.listen()}`;
    await fx.api();
    fx.c = { admin: await signIn('admin'), blueAdmin: await signIn('blueAdmin') } as Record<DemoLogin, ApiClient>;
    await fx.c.admin.mutate('ha.updateSettings', {
      clusterId: fx.clusterId,
      settings: { ...FAST_HA, ...options.settings },
    });
  }, 120_000);

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    await fx.kit.dump();
    await options.onFailure?.().catch((e) => console.log(`(more output failed: ${String(e)})`));
    for (const p of processes) console.log(`--- API ${p.url}\n${p.output().split('\n').slice(-30).join('\n')}`);
  });

  afterAll(async () => {
    await fx.kit.close();
    for (const p of processes) await p.kill('SIGKILL');
    await proxy?.close();
    delete process.env.FABRIC_HA_DIR;
    delete process.env.FABRIC_HA_PEER_MS;
  });

  return fx;
}
