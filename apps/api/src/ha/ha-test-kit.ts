import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findRunOverlaps } from '../../../agent/src/testing/run-log-overlap';
import { type AgentProcess, type BmcProcess, eventually, spawnAgent, spawnBmc } from '../testing/agent-process';
import type { ApiClient } from '../testing/api-client';
import type { DemoLogin } from '../testing/seed';

/** What the HA integration tests read of a failure event (ha.events). */
export interface HaRestart {
  vmId: string;
  vmName: string;
  priority: string;
  state: string;
  reason: string;
  toHostId: string | null;
  runningAt: string | null;
  rtoMs: number | null;
}
export interface HaEvent {
  id: string;
  hostId: string;
  hostName: string;
  state: string;
  diagnosis: string;
  lastHeartbeatAt: string;
  fencedAt: string | null;
  timeline: { at: string; kind: string; message: string; vmId?: string }[];
  restarts: HaRestart[];
}

/**
 * Fast HA settings for tests: heartbeat 1 s (agents beat every 0.5 s), detection 4 s, isolation 5 s, fencing
 * 6.5 s. Not tighter: on a loaded 2-core machine the API has been seen silent for 2.7 s, and a 2 s detection
 * then fails a host that is alive.
 */
export const FAST_HA = {
  enabled: true,
  detectionTimeoutMs: 4000,
  isolationTimeoutMs: 5000,
  fencingTimeoutMs: 6500,
  isolationResponse: 'power-off',
  fenceMethod: 'lease',
} as const;

export const ROOMY_QUOTA = {
  maxVms: 1000,
  maxVcpus: 1000,
  maxMemoryMiB: 10_000_000,
  maxStorageBytes: 1024 ** 5,
  maxRunningVms: 1000,
  maxRunningVcpus: 1000,
  maxRunningMemoryMiB: 10_000_000,
};

/**
 * Real agent processes in one test cluster, each with its own state directory (and run log) and a shared
 * heartbeat directory; what the HA tests do to them and read back.
 */
export class HaKit {
  readonly agents = new Map<string, AgentProcess>();
  readonly dirs = new Map<string, string>();
  readonly killedAt = new Map<string, Date>();
  /** Hosts started with a BMC: it runs from the agent's first start to the end (close). */
  readonly bmcs = new Map<string, BmcProcess>();
  readonly haDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-ha-shared-'));

  constructor(
    private readonly env: { apiUrl: () => string; c: () => Record<DemoLogin, ApiClient>; clusterId: () => string },
  ) {}

  private get c() {
    return this.env.c();
  }

  async newToken() {
    return (await this.c.admin.mutate<{ token: string }>('tokens.create', { clusterId: this.env.clusterId() })).token;
  }

  /**
   * Starts (or restarts, with its state directory kept) the agent of `hostname`; with `bmc`, its simulated
   * BMC beside it first (once: a restarted agent keeps its BMC), with a random password (bmcs).
   */
  async startAgent(hostname: string, options: { profile?: string; apiUrl?: string; bmc?: boolean } = {}) {
    const first = !this.dirs.has(hostname);
    if (first) this.dirs.set(hostname, mkdtempSync(path.join(os.tmpdir(), `fabric-ha-${hostname}-`)));
    if (options.bmc && !this.bmcs.has(hostname)) {
      const bmc = await spawnBmc({
        hostname,
        stateDir: this.dirs.get(hostname) as string,
        password: randomBytes(12).toString('base64url'),
      });
      this.bmcs.set(hostname, bmc);
    }
    const agent = spawnAgent({
      api: options.apiUrl ?? this.env.apiUrl(),
      hostname,
      ...(first ? { token: await this.newToken() } : {}),
      stateDir: this.dirs.get(hostname) as string,
      heartbeatMs: 500,
      ...(options.profile ? { profile: options.profile } : {}),
      extraArgs: ['--sim-speed', '20'],
    });
    this.agents.set(hostname, agent);
    this.killedAt.delete(hostname);
    return agent;
  }

  async kill(hostname: string) {
    this.killedAt.set(hostname, new Date());
    await this.agents.get(hostname)?.kill('SIGKILL');
  }

  async hosts(prefix: string) {
    const list = await this.c.admin.query<{ rows: { id: string; name: string; state: string }[] }>('hosts.list', {
      search: prefix,
    });
    return new Map(list.rows.map((h) => [h.name, h]));
  }

  async hostId(name: string) {
    return (await this.hosts(name)).get(name)?.id as string;
  }

  async waitConnected(names: string[], timeoutMs = 40_000) {
    await eventually(
      async () => {
        const all = await Promise.all(names.map(async (n) => (await this.hosts(n)).get(n)?.state));
        return all.every((s) => s === 'connected');
      },
      timeoutMs,
      `${names.join(', ')} to be connected`,
    );
  }

  async createVm(name: string, memoryGiB: number, haPriority: 'high' | 'medium' | 'low' | 'off') {
    const created = await this.c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
      name,
      vcpus: 1,
      memory: { mode: 'static', sizeMiB: memoryGiB * 1024 },
      disks: [{ sizeGiB: 10 }],
      haPriority,
      startAfterCreate: true,
    });
    return created.vm.id;
  }

  vm(id: string) {
    return this.c.admin.query<{ state: string; hostName?: string | null }>('vms.get', { id });
  }

  async waitRunning(ids: string[], timeoutMs = 60_000) {
    for (const id of ids) {
      await eventually(async () => (await this.vm(id)).state === 'running', timeoutMs, `VM ${id} to run`);
    }
  }

  events() {
    return this.c.admin.query<HaEvent[]>('ha.events', { clusterId: this.env.clusterId(), limit: 100 });
  }

  async eventFor(hostId: string, done: (e: HaEvent) => boolean, timeoutMs: number, what: string) {
    return eventually(
      async () => {
        const event = (await this.events()).find((e) => e.hostId === hostId);
        return event && done(event) ? event : null;
      },
      timeoutMs,
      what,
    );
  }

  /** VMs live on two hosts at overlapping times, from every agent's own run log (a killed agent's runs end when it died). */
  overlaps() {
    return findRunOverlaps(
      [...this.dirs.entries()].map(([name, dir]) => ({
        path: dir,
        ...(this.killedAt.has(name) ? { endedAt: this.killedAt.get(name) } : {}),
      })),
    );
  }

  /** On a failed test: the events and each agent's HA lines. */
  async dump() {
    const events = await this.events().catch((e) => String(e));
    console.log('HA events:', JSON.stringify(events, null, 1).slice(0, 8000));
    for (const [name, agent] of this.agents) {
      const lines = agent.output().split('\n');
      console.log(`--- ${name}\n${lines.filter((l) => l.includes(' ha: ')).join('\n')}\n${lines.slice(-8).join('\n')}`);
    }
    for (const [name, bmc] of this.bmcs)
      console.log(`--- BMC of ${name}\n${bmc.output().split('\n').slice(-8).join('\n')}`);
  }

  async close() {
    await Promise.all([...this.agents.values()].map((a) => a.kill('SIGTERM')));
    await Promise.all([...this.bmcs.values()].map((b) => b.kill('SIGTERM')));
  }
}

/**
 * A TCP proxy in front of the API: it can cut the line (the agents keep running, cut off) and heal it,
 * and follow the API to a new port (an API process restarted).
 */
export function tcpProxy(initialTargetPort: number) {
  let cut = false;
  let target = initialTargetPort;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      ),
    cut() {
      cut = true;
      dropAll();
    },
    heal() {
      cut = false;
    },
    retarget(port: number) {
      target = port;
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
