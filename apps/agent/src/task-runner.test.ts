import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TaskKind, TaskReport, VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentApiClient } from './api-client';
import { resolveProfilePath } from './drivers/simulated/profile';
import { EXIT_CODES } from './exit';
import { createMemoryLogger } from './log';
import { Reporter } from './reporter';
import { StateStore } from './state-store';
import { parseParams, TaskHandlers } from './task-handlers';
import { TaskJournal } from './task-journal';
import { TaskRunner, type TaskRunnerOptions } from './task-runner';
import { FakeAgentApi, type FakeTask, waitFor } from './testing/fake-agent-api';
import { GIB, RecordingDriver, vmDisk, vmSpec } from './testing/vm-fixtures';

/**
 * The whole agent (reporter + task runner + simulated driver) against the
 * fake API over real HTTP, with the simulation sped up 50× so a create takes
 * tens of ms. Assertions wait for outcomes with generous bounds.
 */
describe('TaskRunner', () => {
  let api: FakeAgentApi;
  let dir: string;
  let profilePath: string;
  let stateDir: string;
  const running: AbortController[] = [];

  beforeEach(async () => {
    api = new FakeAgentApi();
    await api.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-tasks-'));
    profilePath = path.join(dir, 'host.json');
    stateDir = path.join(dir, 'state');
    // 64 GiB of memory (62 for VMs), one 2 TiB pool "Local" with 614 GiB used.
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  });

  afterEach(async () => {
    for (const controller of running.splice(0)) controller.abort();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function startAgent(
    options: { token?: string; speed?: number; heartbeatMs?: number; runner?: Partial<TaskRunnerOptions> } = {},
  ) {
    const controller = new AbortController();
    running.push(controller);
    const log = createMemoryLogger();
    const client = new AgentApiClient({ baseUrl: api.url, timeoutMs: 2000 });
    const driver = new RecordingDriver({ profilePath, hostname: 'hv-test-01', stateDir, speed: options.speed ?? 50 });
    const backoff = { initialMs: 5, maxMs: 40, factor: 2, jitterRatio: 0.2 };
    const runner = new TaskRunner({
      api: client,
      driver,
      journal: new TaskJournal(stateDir),
      log,
      waitMs: 1000,
      longPollReleaseMs: 20,
      backoff,
      ...options.runner,
    });
    const reporter = new Reporter({
      api: client,
      driver,
      store: new StateStore(stateDir),
      log,
      apiUrl: api.url,
      token: options.token,
      heartbeatMsOverride: options.heartbeatMs ?? 50,
      backoff,
      tasks: runner,
    });
    const done = reporter.run(controller.signal);
    const stop = async () => {
      controller.abort();
      const exit = await done;
      await waitFor(() => api.waitingPolls === 0, 'the fake API to see the poll go');
      return exit;
    };
    return { controller, log, driver, done, stop };
  }

  /** Starts an agent that registers, and waits until the API knows the host. */
  async function registeredAgent(options: Parameters<typeof startAgent>[0] = {}) {
    const agent = startAgent({ token: api.issueToken(), ...options });
    await waitFor(() => api.hosts.size === 1, 'registration');
    return { ...agent, hostId: onlyHostId() };
  }

  function onlyHostId(): string {
    const [host] = api.hosts.values();
    if (!host) throw new Error('no host registered');
    return host.hostId;
  }

  function finalOf(taskId: string): TaskReport | null {
    return api.mustGetTask(taskId).final;
  }

  async function finished(taskId: string, what = `task ${taskId.slice(0, 8)} to finish`): Promise<FakeTask> {
    await waitFor(() => finalOf(taskId) !== null, what, 8000);
    return api.mustGetTask(taskId);
  }

  /** Waits until tasks.json records that the API has the task's result. */
  async function acknowledged(taskId: string): Promise<void> {
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const journal = new TaskJournal(stateDir);
      await journal.load(createMemoryLogger());
      if (journal.get(taskId)?.acknowledged) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for task ${taskId} to be acknowledged in the journal`);
  }

  function enqueue(hostId: string, kind: TaskKind, spec: VmSpec): string {
    return api.enqueueTask(hostId, kind, spec.vmId, kind === 'vm.create' ? spec : null);
  }

  it('runs other kinds by their registered handler, with params in and a result out', async () => {
    const handlers = new TaskHandlers().register('replica.retain', async (task) => {
      const params = parseParams(task, z.object({ keepPointIds: z.array(z.string()).max(3) }));
      return {
        status: 'succeeded',
        vmState: null,
        message: `kept ${params.keepPointIds.length}`,
        result: { kept: params.keepPointIds },
      };
    });
    const agent = await registeredAgent({ runner: { handlers } });
    const vmId = vmSpec({ name: 'r-01' }).vmId;
    const ok = api.enqueueTask(agent.hostId, 'replica.retain', vmId, null, { keepPointIds: ['a', 'b'] });
    const refused = api.enqueueTask(agent.hostId, 'replica.retain', vmId, null, { keepPointIds: ['a', 'b', 'c', 'd'] });
    const unknown = api.enqueueTask(agent.hostId, 'replica.accept', vmId, null, {});

    expect((await finished(ok)).final).toMatchObject({
      status: 'succeeded',
      message: 'kept 2',
      result: { kept: ['a', 'b'] },
    });
    expect((await finished(refused)).final).toMatchObject({ status: 'failed', code: 'INVALID_PARAMS' });
    expect((await finished(unknown)).final).toMatchObject({ status: 'failed', code: 'UNSUPPORTED_TASK_KIND' });
    await agent.stop();
  });

  it('creates then starts a VM, reporting progress and then success', async () => {
    // Slow enough (about 0.5 s per create) for the 25 % steps to be reported.
    const agent = await registeredAgent({ speed: 2 });
    const spec = vmSpec({ name: 'web-01' });
    const create = enqueue(agent.hostId, 'vm.create', spec);
    const start = enqueue(agent.hostId, 'vm.start', spec);

    const created = await finished(create);
    expect(created.final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    const progress = created.reports.filter((r) => r.body.status === 'running').map((r) => r.body);
    expect(progress[0]).toMatchObject({ status: 'running', progress: 0 });
    // Start, then at least the 25 / 50 / 75 % steps of a multi-step create.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const percents = progress.map((p) => (p.status === 'running' ? p.progress : -1));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(created.reports.at(-1)?.body.status).toBe('succeeded');

    expect((await finished(start)).final).toMatchObject({ status: 'succeeded', vmState: 'running' });
    expect(agent.driver.calls).toEqual([`create ${spec.vmId}`, `start ${spec.vmId}`]);

    // The VM's fixed disk shows in the pool the API sees (the inventory is re-sent when it changes).
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    const baseUsed: number = profile.storagePools[0].usedBytes;
    await waitFor(
      () => api.hosts.get(agent.hostId)?.inventory.storagePools[0]?.usedBytes === baseUsed + 40 * GIB,
      'inventory with the disk',
    );
    expect((await agent.stop()).code).toBe(EXIT_CODES.stopped);
    const vms = JSON.parse(await readFile(path.join(stateDir, 'vms.json'), 'utf8'));
    expect(vms.vms).toMatchObject([{ vmId: spec.vmId, name: 'web-01', state: 'running' }]);
    const journal = JSON.parse(await readFile(path.join(stateDir, 'tasks.json'), 'utf8'));
    expect(journal.entries).toHaveLength(2);
    expect(journal.entries.every((e: { acknowledged: boolean }) => e.acknowledged)).toBe(true);
  });

  it('gets a task again at once when the answer that carried it was lost, not after its 60 s lease', async () => {
    // An API process killed after handing tasks out, before its answer arrived: the next poll says what the agent
    // holds, so the API hands the missing task out again (attempt 2) instead of leaving it leased to nobody.
    api.lostAfterMs = 0;
    api.losePollAnswers = 1;
    const agent = await registeredAgent();
    const spec = vmSpec({ name: 'lost-01' });
    const create = enqueue(agent.hostId, 'vm.create', spec);
    const task = await finished(create, 'the lost task to be handed out again and run');
    expect(task.task.attempt).toBe(2);
    expect(task.final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    const polls = api.requests.filter((r) => r.path.endsWith('/tasks/next'));
    expect(polls.some((r) => r.status === 0)).toBe(true);
    expect(agent.driver.calls).toEqual([`create ${spec.vmId}`]);
    // Polls name what the agent holds: a task it runs is not handed out twice meanwhile.
    const slow = enqueue(agent.hostId, 'vm.start', spec);
    await finished(slow);
    expect(api.mustGetTask(slow).task.attempt).toBe(1);
    expect(polls.every((r) => Array.isArray((r.body as { holding?: unknown }).holding))).toBe(true);
    await agent.stop();
  });

  it('runs the tasks of one VM strictly in order, and at most 4 tasks at once', async () => {
    const agent = await registeredAgent();
    const a = vmSpec();
    const ordered: [TaskKind, string][] = [
      ['vm.create', a.vmId],
      ['vm.start', a.vmId],
      ['vm.pause', a.vmId],
      ['vm.resume', a.vmId],
      ['vm.save', a.vmId],
      ['vm.start', a.vmId],
      ['vm.stop', a.vmId],
    ];
    const others = Array.from({ length: 6 }, () => vmSpec());
    // Queued together, so they arrive in one or two polls and compete for slots.
    const ids = ordered.map(([kind]) => enqueue(agent.hostId, kind, a));
    const otherIds = others.map((spec) => enqueue(agent.hostId, 'vm.create', spec));
    for (const id of [...ids, ...otherIds]) await finished(id);

    expect(ids.map((id) => finalOf(id))).toEqual(ids.map(() => expect.objectContaining({ status: 'succeeded' })));
    expect(finalOf(ids.at(-1) ?? '')).toMatchObject({ vmState: 'off' });
    // Each call on VM a begins only after the previous one ended, in queue order.
    const forA = agent.driver.events.filter((e) => e.endsWith(a.vmId));
    const expected = ['create', 'start', 'pause', 'resume', 'save', 'start', 'stop'].flatMap((op) => [
      `begin ${op} ${a.vmId}`,
      `end ${op} ${a.vmId}`,
    ]);
    expect(forA).toEqual(expected);
    expect(agent.driver.maxActive).toBeLessThanOrEqual(4);
    expect(agent.driver.maxActive).toBeGreaterThan(1);
    await agent.stop();
  });

  it('does not run a task twice when it is handed out again after a restart; re-sends the stored result', async () => {
    const first = await registeredAgent();
    const spec = vmSpec();
    const create = enqueue(first.hostId, 'vm.create', spec);
    await finished(create);
    await acknowledged(create);
    await first.stop();
    expect(first.driver.count('create')).toBe(1);

    // The API lost the result (restored from a backup): the task comes back with attempt 2.
    api.requeueTask(create);
    const second = startAgent();
    const task = await finished(create, 'the re-handed task to be reported again');
    expect(task.task.attempt).toBe(2);
    expect(task.final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    expect(second.driver.count('create')).toBe(0);
    expect(second.log.lines.some((l) => l.includes('re-sending its result instead of running it twice'))).toBe(true);
    // Exactly one VM, created once.
    expect(await second.driver.listVms()).toHaveLength(1);
    await second.stop();
  });

  it('keeps an undelivered result across a restart and sends it without running the task again', async () => {
    api.dropFinalReports = 1_000;
    const first = await registeredAgent();
    const spec = vmSpec();
    const create = enqueue(first.hostId, 'vm.create', spec);
    await waitFor(() => api.requests.filter((r) => r.status === 0).length >= 2, 'dropped final reports');
    await first.stop();
    expect(finalOf(create)).toBeNull();

    api.dropFinalReports = 0;
    api.expireLeases();
    const second = startAgent();
    const task = await finished(create);
    expect(task.final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    expect(first.driver.count('create') + second.driver.count('create')).toBe(1);
    await second.stop();
  });

  it('retries a final report lost to the network until the API has it', async () => {
    api.dropFinalReports = 2;
    api.loseFinalReportAnswers = 1;
    const agent = await registeredAgent();
    const spec = vmSpec();
    const create = enqueue(agent.hostId, 'vm.create', spec);
    const task = await finished(create);
    // The recorded-but-unanswered one is sent again and accepted as the same result.
    await waitFor(
      () => task.reports.filter((r) => r.body.status === 'succeeded' && r.accepted).length >= 2,
      'the re-sent result',
    );
    await acknowledged(create);
    await agent.stop();
    expect(api.requests.filter((r) => r.path.endsWith('/report') && r.status === 0)).toHaveLength(3);
    expect(agent.driver.count('create')).toBe(1);
  });

  it('resumes a task that was running when the agent died, through the idempotent driver', async () => {
    const first = await registeredAgent({ speed: 1 });
    const spec = vmSpec({ disks: [] });
    const create = enqueue(first.hostId, 'vm.create', spec);
    await waitFor(() => api.mustGetTask(create).reports.length >= 1, 'the create to start');
    await first.stop();
    expect(finalOf(create)).toBeNull();

    api.expireLeases();
    const second = startAgent();
    const task = await finished(create);
    expect(task.task.attempt).toBe(2);
    expect(task.final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    expect(second.log.lines.some((l) => l.includes('resuming after an agent restart'))).toBe(true);
    expect(await second.driver.listVms()).toHaveLength(1);
    await second.stop();
  });

  it('gives stable codes for capacity and state failures, with the VM state afterwards', async () => {
    const agent = await registeredAgent();
    const noPool = vmSpec({ disks: [vmDisk({ pool: 'Nope' })] });
    const huge = vmSpec({ disks: [vmDisk({ sizeBytes: 10 * 1024 * GIB })] });
    const hungry = vmSpec({ memory: { ...vmSpec().memory, startupMiB: 63 * 1024, maximumMiB: 63 * 1024 } });
    const ids = {
      noPool: enqueue(agent.hostId, 'vm.create', noPool),
      huge: enqueue(agent.hostId, 'vm.create', huge),
      hungryCreate: enqueue(agent.hostId, 'vm.create', hungry),
      hungryStart: enqueue(agent.hostId, 'vm.start', hungry),
      hungryPause: enqueue(agent.hostId, 'vm.pause', hungry),
      missing: enqueue(agent.hostId, 'vm.start', vmSpec()),
    };
    for (const id of Object.values(ids)) await finished(id);
    expect(finalOf(ids.noPool)).toMatchObject({ status: 'failed', code: 'POOL_NOT_FOUND', vmState: null });
    expect(finalOf(ids.huge)).toMatchObject({ status: 'failed', code: 'INSUFFICIENT_STORAGE', vmState: null });
    expect(finalOf(ids.hungryCreate)).toMatchObject({ status: 'succeeded', vmState: 'off' });
    expect(finalOf(ids.hungryStart)).toMatchObject({ status: 'failed', code: 'INSUFFICIENT_MEMORY', vmState: 'off' });
    expect(finalOf(ids.hungryPause)).toMatchObject({ status: 'failed', code: 'INVALID_STATE', vmState: 'off' });
    expect(finalOf(ids.missing)).toMatchObject({ status: 'failed', code: 'VM_NOT_FOUND', vmState: null });
    expect((await agent.driver.listVms()).map((vm) => [vm.vmId, vm.state])).toEqual([[hungry.vmId, 'off']]);
    await agent.stop();
  });

  it('cancels a task before its point of no return when the API asks', async () => {
    const agent = await registeredAgent({ speed: 1, runner: { keepAliveMs: 100 } });
    const spec = vmSpec({ disks: [] });
    const create = enqueue(agent.hostId, 'vm.create', spec);
    await waitFor(() => api.mustGetTask(create).reports.length >= 1, 'the create to start');
    api.mustGetTask(create).cancelRequested = true;
    const task = await finished(create);
    expect(task.final).toMatchObject({ status: 'failed', code: 'CANCELLED', vmState: null });
    expect(await agent.driver.listVms()).toHaveLength(0);
    await agent.stop();
  });

  it('exits 3 when the credential is revoked while tasks run', async () => {
    // Heartbeats far apart: the task loop is the one that meets the 401.
    const agent = await registeredAgent({ heartbeatMs: 60_000, speed: 1 });
    const create = enqueue(agent.hostId, 'vm.create', vmSpec());
    await waitFor(() => api.mustGetTask(create).reports.length >= 1, 'the create to start');
    const host = api.hosts.get(agent.hostId);
    if (!host) throw new Error('no host');
    host.revoked = true;
    const exit = await agent.done;
    expect(exit.code).toBe(EXIT_CODES.revoked);
    expect(agent.log.lines.some((l) => l.includes('removed by an admin'))).toBe(true);
  });

  it('keeps seq strictly increasing across heartbeats, polls and reports running at once', async () => {
    // The production hold for the long poll: what makes seq order hold on a real network.
    const agent = await registeredAgent({ heartbeatMs: 5, runner: { longPollReleaseMs: 250 } });
    const specs = Array.from({ length: 8 }, () => vmSpec({ disks: [] }));
    const ids = specs.flatMap((spec) => [
      enqueue(agent.hostId, 'vm.create', spec),
      enqueue(agent.hostId, 'vm.start', spec),
    ]);
    for (const id of ids) await finished(id);
    await agent.stop();
    expect(api.requests.filter((r) => r.status === 409)).toHaveLength(0);
    const seqs = api.acceptedSeqs;
    expect(seqs.length).toBeGreaterThan(ids.length * 2);
    for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? 0);
    expect(api.requestsTo('/heartbeat').length).toBeGreaterThan(1);
  });

  it('keeps heartbeating against an API without task endpoints', async () => {
    const agent = await registeredAgent();
    const host = api.hosts.get(agent.hostId);
    if (!host) throw new Error('no host');
    api.tasksUnsupported = true;
    const beats = host.heartbeats;
    await waitFor(() => host.heartbeats >= beats + 3, 'heartbeats');
    expect((await agent.stop()).code).toBe(EXIT_CODES.stopped);
  });
});
