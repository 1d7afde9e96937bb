import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAgentApi, waitFor } from './testing/fake-agent-api';
import { vmSpec } from './testing/vm-fixtures';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The agent as the demo runs it: a separate process, its stdout, its exit code. */
function spawnAgent(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('agent process', () => {
  let api: FakeAgentApi;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    api = new FakeAgentApi();
    await api.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-main-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers, stops cleanly on SIGTERM, restarts without a token and exits 3 once revoked', async () => {
    const stateDir = path.join(dir, 'state');
    const common = ['--api', api.url, '--driver', 'simulated', '--profile', 'small-1x8-64g'];
    const first = spawnAgent([
      ...common,
      '--token',
      api.issueToken(),
      '--hostname',
      'lab-07',
      '--state-dir',
      stateDir,
      '--heartbeat-ms',
      '100',
    ]);
    children.push(first.child);
    await waitFor(
      () => (api.hosts.values().next().value?.heartbeats ?? 0) >= 2,
      'heartbeats from the process',
      8000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; agent output:\n${first.output()}`);
    });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/^\[lab-07\] .*registered as host/m);
    expect((await stat(path.join(stateDir, 'credential.json'))).mode & 0o777).toBe(0o600);

    const second = spawnAgent([...common, '--hostname', 'lab-07', '--state-dir', stateDir, '--heartbeat-ms', '100']);
    children.push(second.child);
    const host = api.hosts.values().next().value;
    if (!host) throw new Error('no host registered');
    const beats = host.heartbeats;
    await waitFor(() => host.heartbeats >= beats + 2, 'heartbeats after restart', 8000);
    host.revoked = true;
    expect(await second.exited).toBe(3);
    expect(second.output()).toContain('removed by an admin');
    expect(api.requestsTo('/register')).toHaveLength(1);
  }, 20_000);

  it('runs tasks from the API on the simulated host, which keeps the VM in its state directory', async () => {
    const stateDir = path.join(dir, 'state');
    const agent = spawnAgent([
      ...['--api', api.url, '--profile', 'small-1x8-64g', '--token', api.issueToken()],
      ...['--state-dir', stateDir, '--heartbeat-ms', '100', '--sim-speed', '50', '--sample-seconds', '1'],
    ]);
    children.push(agent.child);
    const withOutput = (error: Error) => {
      throw new Error(`${error.message}; agent output:\n${agent.output()}`);
    };
    await waitFor(() => api.hosts.size === 1, 'registration', 8000).catch(withOutput);
    const hostId = api.hosts.values().next().value?.hostId ?? '';
    const spec = vmSpec({ name: 'proc-01' });
    const create = api.enqueueTask(hostId, 'vm.create', spec.vmId, spec);
    const start = api.enqueueTask(hostId, 'vm.start', spec.vmId);
    await waitFor(() => api.mustGetTask(start).final !== null, 'both tasks to finish', 8000).catch(withOutput);
    expect(api.mustGetTask(create).final).toMatchObject({ status: 'succeeded', vmState: 'off' });
    expect(api.mustGetTask(start).final).toMatchObject({ status: 'succeeded', vmState: 'running' });
    // Metering: the running VM is sampled every second, at whole seconds.
    await waitFor(() => [...api.samples.values()].some((s) => s.cpuAvgMhz > 0), 'a sample of the running VM', 8000);
    const sample = [...api.samples.values()].find((s) => s.cpuAvgMhz > 0);
    expect(sample).toMatchObject({ vmId: spec.vmId, intervalSeconds: 1, diskAllocatedGiB: 40 });
    expect(Date.parse(sample?.at ?? '') % 1000).toBe(0);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const vms = JSON.parse(await readFile(path.join(stateDir, 'vms.json'), 'utf8'));
    expect(vms.vms).toMatchObject([{ vmId: spec.vmId, name: 'proc-01', state: 'running' }]);
  }, 20_000);

  it('exits 2 with the usage on bad arguments', async () => {
    const agent = spawnAgent(['--api', 'nope']);
    children.push(agent.child);
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain('Usage:');
  });
});
