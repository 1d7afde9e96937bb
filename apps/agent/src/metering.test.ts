import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentApiClient } from './api-client';
import type { HostVm } from './drivers/driver';
import { resolveProfilePath } from './drivers/simulated/profile';
import { SimulatedDriver } from './drivers/simulated/simulated-driver';
import { simulateVmSample } from './drivers/simulated/vm-load';
import { createMemoryLogger } from './log';
import { MeteredAcls } from './metered-acls';
import { Metering, type MeteringClock } from './metering';
import { EXIT_CODES, Reporter } from './reporter';
import { SampleBuffer } from './sample-buffer';
import { sleep } from './sleep';
import { StateStore } from './state-store';
import { FakeAgentApi, waitFor } from './testing/fake-agent-api';
import { vmSpec } from './testing/vm-fixtures';

const T0 = Date.UTC(2024, 2, 4, 8, 59, 30);

/**
 * Wall-clock time that runs a minute every few real ms: each interval the
 * collector waits for ends almost at once, so an hour of metering takes a
 * fraction of a second. Everything else (HTTP, backoff) runs in real time.
 */
function fastClock(): MeteringClock {
  let now = T0;
  return {
    now: () => now,
    async sleepUntil(epochMs, signal) {
      await sleep(3, signal);
      if (!signal.aborted) now = Math.max(now, epochMs) + 10;
    },
  };
}

/** Three running VMs sampled by the simulated load model, counting what it produced. */
function meteredHost() {
  const vms: HostVm[] = [1, 2, 3].map((n) => {
    const spec = vmSpec({ vmId: `00000000-0000-4000-8000-00000000000${n}` });
    return { vmId: spec.vmId, name: spec.name, state: 'running', spec };
  });
  const driver = {
    produced: 0,
    async sampleVms(intervalEnd: Date, intervalSeconds: number, acls?: readonly string[]): Promise<VmSample[]> {
      driver.produced += vms.length;
      return vms.map((vm) => simulateVmSample({ seed: 1, vm, hostMhz: 2400, intervalEnd, intervalSeconds, acls }));
    },
  };
  return driver;
}

describe('Metering', () => {
  let api: FakeAgentApi;
  let dir: string;
  let profilePath: string;
  let stateDir: string;
  const running: AbortController[] = [];

  beforeEach(async () => {
    api = new FakeAgentApi();
    await api.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-metering-'));
    profilePath = path.join(dir, 'host.json');
    stateDir = path.join(dir, 'state');
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  });
  afterEach(async () => {
    for (const controller of running.splice(0)) controller.abort();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function start(options: { token?: string; bufferMax?: number; heartbeatMs?: number; clock?: MeteringClock } = {}) {
    const controller = new AbortController();
    running.push(controller);
    const log = createMemoryLogger();
    const client = new AgentApiClient({ baseUrl: api.url, timeoutMs: 2000 });
    const driver = meteredHost();
    const buffer = new SampleBuffer({ stateDir, maxSamples: options.bufferMax ?? 100_000, log });
    const backoff = { initialMs: 5, maxMs: 20, factor: 2, jitterRatio: 0.2 };
    const meteredAcls = new MeteredAcls();
    const reporter = new Reporter({
      api: client,
      driver: new SimulatedDriver({ profilePath, hostname: 'hv-meter-01' }),
      store: new StateStore(stateDir),
      log,
      apiUrl: api.url,
      token: options.token,
      heartbeatMsOverride: options.heartbeatMs ?? 20,
      backoff,
      metering: new Metering({
        api: client,
        driver,
        buffer,
        log,
        clock: options.clock ?? fastClock(),
        backoff,
        acls: meteredAcls,
      }),
      meteredAcls,
    });
    const done = reporter.run(controller.signal);
    return { controller, log, done, buffer, driver };
  }

  /** Batch numbers the API took (200), in arrival order. */
  const received = () => api.sampleBatches.map((b) => b.batch);

  /** Per VM, the interval ends the API has, in order. */
  function storedTimes(): Map<string, number[]> {
    const byVm = new Map<string, number[]>();
    for (const s of api.samples.values()) byVm.set(s.vmId, [...(byVm.get(s.vmId) ?? []), Date.parse(s.at)]);
    for (const times of byVm.values()) times.sort((a, b) => a - b);
    return byVm;
  }

  it('sends a batch per interval, aligned to the minute, with seqs increasing across all loops', async () => {
    const agent = start({ token: api.issueToken() });
    await waitFor(() => api.sampleBatches.length >= 5, 'five batches');
    agent.controller.abort();
    expect(await agent.done).toMatchObject({ code: EXIT_CODES.stopped });

    expect(received().slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    const [first] = api.samples.values();
    // Started 08:59:30: the first interval ends at 09:00:00.
    expect(first?.at).toBe('2024-03-04T09:00:00.000Z');
    for (const times of storedTimes().values()) {
      for (const [i, t] of times.entries()) expect(t).toBe(Date.UTC(2024, 2, 4, 9) + i * 60_000);
    }
    const paths = new Set(api.requests.map((r) => r.path.split('/').at(-1)));
    expect(paths).toEqual(new Set(['register', 'heartbeat', 'samples']));
    const seqs = api.acceptedSeqs;
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0))).toBe(true);
  });

  it('buffers while the API is down, then catches up in order without duplicates', async () => {
    const agent = start({ token: api.issueToken() });
    await waitFor(() => api.sampleBatches.length >= 2, 'the first batches');
    api.mode = 'down';
    const before = agent.buffer.lastBatchNumber;
    // Fourteen intervals of outage, all kept: the buffer holds every batch since then. (Waiting on the
    // buffer's length alone counted batches buffered before the outage too, so the number could be short.)
    await waitFor(() => agent.buffer.lastBatchNumber >= before + 14, 'fourteen batches made during the outage');
    expect(agent.buffer.batchNumbers.length).toBeGreaterThanOrEqual(14);
    api.mode = 'up';
    const target = agent.buffer.lastBatchNumber;
    await waitFor(() => received().includes(target), 'the backlog sent');
    agent.controller.abort();
    await agent.done;

    const batches = received();
    expect(batches).toEqual(Array.from({ length: batches.length }, (_, i) => i + 1));
    expect(api.sampleBatches.every((b) => b.stored === b.count && b.dropped === 0)).toBe(true);
    // Every interval once per VM, none missing: the outage cost nothing.
    for (const times of storedTimes().values()) {
      expect(times).toEqual(times.map((_, i) => Date.UTC(2024, 2, 4, 9) + i * 60_000));
    }
    expect(agent.log.lines.some((l) => l.includes('metering: API unavailable (HTTP 503'))).toBe(true);
    expect(agent.log.lines.some((l) => l.includes('metering: API takes samples again'))).toBe(true);
  });

  it('keeps to its bound during an outage, dropping the oldest, and reports every dropped sample', async () => {
    const agent = start({ token: api.issueToken(), bufferMax: 10 });
    await waitFor(() => api.sampleBatches.length >= 1, 'the first batch');
    api.mode = 'down';
    const outageFrom = agent.buffer.lastBatchNumber;
    await waitFor(() => agent.buffer.lastBatchNumber >= outageFrom + 20, 'twenty intervals of outage');
    expect(agent.buffer.size).toBeLessThanOrEqual(10 + 3);
    api.mode = 'up';
    await waitFor(() => api.sampleBatches.some((b) => b.dropped > 0), 'a batch reporting drops');
    // After the outage the agent's retries back off; on a loaded 2-core machine the backlog took over 15 s.
    await waitFor(() => agent.buffer.size <= 3, 'the backlog sent', 40_000);
    agent.controller.abort();
    await agent.done;

    // Conservation: every sample produced is stored, reported dropped, or still buffered. A batch
    // whose answer the stop cut off is both stored and buffered (sent again next run): count keys once.
    const reopened = new SampleBuffer({ stateDir, maxSamples: 10, log: createMemoryLogger() });
    await reopened.open();
    const pending = reopened.pendingDroppedCount;
    const kept = new Set(api.samples.keys());
    for (let batch = await reopened.take(); batch !== null; batch = await reopened.take()) {
      for (const s of batch.samples) kept.add(`${s.vmId}@${s.at}`);
      await reopened.release(batch.batch, 'acknowledged');
    }
    const reported = api.sampleBatches.reduce((sum, b) => sum + b.dropped, 0);
    expect(kept.size + reported + pending).toBe(agent.driver.produced);
    expect(reported).toBeGreaterThanOrEqual(3 * 20 - 13);
    // The oldest went: what survived the outage is its end, not its start.
    const afterOutage = received().filter((b) => b > outageFrom);
    expect(afterOutage[0]).toBeGreaterThan(outageFrom + 10);
    expect(agent.log.lines.filter((l) => l.includes('buffer full')).length).toBeGreaterThanOrEqual(1);
    // Real timers through twenty sped-up intervals: ~2 s alone, more while the other unit files
    // run beside it on 2 cores (it hit the 5 s default there). The waits above bound it, not the clock.
  }, 90_000);

  it('after a restart sends what the last run buffered, in order, and numbers on from there', async () => {
    // One clock for both runs: the second goes on where the first stopped.
    const clock = fastClock();
    const first = start({ token: api.issueToken(), clock });
    await waitFor(() => api.sampleBatches.length >= 1, 'the first batch');
    api.mode = 'down';
    await waitFor(() => first.buffer.batchNumbers.length >= 5, 'a backlog');
    first.controller.abort();
    await first.done;
    const left = first.buffer.batchNumbers;
    const lastOfFirstRun = first.buffer.lastBatchNumber;

    api.mode = 'up';
    const second = start({ clock });
    await waitFor(() => received().includes(lastOfFirstRun + 3), 'the backlog and new batches');
    second.controller.abort();
    await second.done;
    // A batch whose answer the stop cut off (sent, stored, not yet deleted) comes again right
    // after the restart; the API keeps its samples once. Otherwise: every number, in order, once.
    const batches = received();
    const distinct = batches.filter((b, i) => b !== batches[i - 1]);
    expect(distinct).toEqual(Array.from({ length: distinct.length }, (_, i) => i + 1));
    expect(batches.length - distinct.length).toBeLessThanOrEqual(1);
    expect(distinct).toEqual(expect.arrayContaining(left));
    for (const times of storedTimes().values()) {
      expect(times).toEqual(times.map((_, i) => Date.UTC(2024, 2, 4, 9) + i * 60_000));
    }
    expect(second.log.lines.some((l) => l.includes('buffered by an earlier run'))).toBe(true);
  });

  it('drops a batch the API refuses (400) with one log line and goes on', async () => {
    api.rejectSampleBatches.add(2);
    const agent = start({ token: api.issueToken() });
    await waitFor(() => received().includes(4), 'batches after the refused one');
    agent.controller.abort();
    await agent.done;
    expect(received().slice(0, 3)).toEqual([1, 3, 4]);
    expect(agent.log.lines.filter((l) => l.includes('refused batch'))).toEqual([
      expect.stringMatching(/^error metering: API refused batch 2 \(3 samples; HTTP 400 INVALID_BODY/),
    ]);
  });

  it('reports the metered ACLs the heartbeat answer lists, and none before', async () => {
    api.meteredAcls = [{ name: 'storage', remoteAddresses: ['10.0.0.0/8'] }];
    api.knownAcls = new Set(['storage']);
    const agent = start({ token: api.issueToken() });
    await waitFor(() => [...api.samples.values()].some((s) => s.networkAcls !== undefined), 'samples with ACLs');
    agent.controller.abort();
    await agent.done;
    const withAcls = [...api.samples.values()].filter((s) => s.networkAcls !== undefined);
    for (const s of withAcls) expect(s.networkAcls?.map((a) => a.acl)).toEqual(['storage']);
    expect(agent.log.lines.some((l) => l.includes('refused'))).toBe(false);
  });

  it('resends a batch without its ACL bytes when the API no longer knows an ACL, instead of dropping it', async () => {
    api.meteredAcls = [{ name: 'storage', remoteAddresses: ['10.0.0.0/8'] }];
    // The class was removed after the agent learned it: the API refuses batches that name it.
    const agent = start({ token: api.issueToken() });
    await waitFor(() => api.sampleBatches.length >= 3, 'batches taken');
    agent.controller.abort();
    await agent.done;
    expect(received().slice(0, 3)).toEqual([1, 2, 3]);
    expect([...api.samples.values()].every((s) => s.networkAcls === undefined)).toBe(true);
    expect(agent.log.lines.some((l) => l.includes('resending it without ACLs'))).toBe(true);
    expect(agent.log.lines.some((l) => l.includes('refused batch'))).toBe(false);
  });

  it('leaves out the samples the API refuses as impossible (422) and sends the rest of the batch again', async () => {
    const impossible = '00000000-0000-4000-8000-000000000002';
    api.impossibleVms.add(impossible);
    const agent = start({ token: api.issueToken() });
    await waitFor(() => api.sampleBatches.length >= 3, 'batches taken');
    agent.controller.abort();
    await agent.done;
    expect(received().slice(0, 3)).toEqual([1, 2, 3]);
    // Each taken batch holds the two other VMs' samples, not the impossible one's.
    for (const b of api.sampleBatches.slice(0, 3)) expect(b.count).toBe(2);
    expect([...api.samples.values()].some((s) => s.vmId === impossible)).toBe(false);
    expect(agent.log.lines.some((l) => /refused 1 sample\(s\) of batch 1 as impossible/.test(l))).toBe(true);
    expect(agent.log.lines.some((l) => l.includes('refused batch'))).toBe(false);
  });

  it('drops a batch whose every sample the API refuses as impossible', async () => {
    for (const n of [1, 2, 3]) api.impossibleVms.add(`00000000-0000-4000-8000-00000000000${n}`);
    const agent = start({ token: api.issueToken() });
    await waitFor(() => agent.log.lines.filter((l) => l.includes('refused batch')).length >= 2, 'batches dropped');
    agent.controller.abort();
    await agent.done;
    expect(api.sampleBatches).toEqual([]);
    expect(agent.log.lines.find((l) => l.includes('refused batch 1'))).toMatch(/HTTP 422 IMPLAUSIBLE_SAMPLES/);
  });

  it('keeps its batches when the API does not take samples yet (404)', async () => {
    api.samplesUnsupported = true;
    const agent = start({ token: api.issueToken() });
    await waitFor(() => agent.buffer.batchNumbers.length >= 3, 'batches kept');
    api.samplesUnsupported = false;
    await waitFor(() => received().length >= 3, 'batches sent once the API has the route');
    agent.controller.abort();
    await agent.done;
    expect(received().slice(0, 3)).toEqual([1, 2, 3]);
    expect(agent.log.lines.some((l) => l.includes('the API does not take samples (HTTP 404'))).toBe(true);
  });

  it('ends the agent with exit 3 when the API refuses the credential on a samples batch', async () => {
    // Heartbeats far apart: after the first, only metering talks to the API.
    const agent = start({ token: api.issueToken(), heartbeatMs: 60_000 });
    await waitFor(() => api.sampleBatches.length >= 2, 'batches');
    const host = api.hosts.values().next().value;
    if (!host) throw new Error('no host');
    host.revoked = true;
    const exit = await agent.done;
    expect(exit.code).toBe(EXIT_CODES.revoked);
    const refused = api.requests.filter((r) => r.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.path.endsWith('/samples'))).toBe(true);
  });
});
