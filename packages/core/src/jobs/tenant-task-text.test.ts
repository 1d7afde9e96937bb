import { describe, expect, it } from 'vitest';
import { ComputeService } from '../compute/compute-service';
import type { VmDetail } from '../compute/vm.schema';
import { inMemoryCompute } from '../testing/in-memory-compute';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { listTasksInput } from './job.schema';
import { TaskLogService } from './task-log-service';
import { HOST_PATH_PLACEHOLDER, redactHostPaths, tenantTaskText } from './tenant-task-text';

const TENANT = '11111111-1111-4111-8111-111111111111';
const CLEANUP_ID = '22222222-2222-4222-8222-222222222222';
const MOVE_ID = '33333333-3333-4333-8333-333333333333';
const PATH = '/var/lib/fabric/agent-hv-01/pools/Pool2/4f1c/disk0.vhdx';

/** A storage move's cleanup that failed on the host (the agent's error names the file), and the move job over it. */
async function tasksWithHostPaths() {
  const jobs = new InMemoryJobRepository(() => new Date('2026-12-04T12:00:00Z'));
  const at = new Date('2026-12-04T11:00:00Z');
  const base = { targetType: 'vm', targetId: 'vm-1', targetLabel: 'web-1', tenantId: TENANT, requestedBy: 'Admin' };
  await jobs.create(
    { ...base, id: CLEANUP_ID, kind: 'storage.cleanup', requestedById: null, steps: [], message: '' },
    at,
  );
  await jobs.update(
    CLEANUP_ID,
    {
      state: 'failed',
      message: `ENOENT: no such file or directory, stat '${PATH}'`,
      errorCode: 'INTERNAL',
      errorMessage: `ENOENT: no such file or directory, stat '${PATH}'`,
    },
    at,
  );
  await jobs.create(
    {
      ...base,
      id: MOVE_ID,
      kind: 'mobility.move-vm-storage',
      requestedById: null,
      steps: [{ key: 'delete', label: 'Source files deleted' }],
      message: "Moving web-1's storage to Pool2",
    },
    at,
  );
  await jobs.update(
    MOVE_ID,
    {
      state: 'failed',
      errorMessage: `storage.cleanup failed (INTERNAL): ENOENT: no such file or directory, stat '${PATH}'`,
      step: { key: 'delete', state: 'failed', detail: `storage.cleanup failed (INTERNAL): scandir ${PATH}` },
    },
    at,
  );
  return new TaskLogService({ jobs });
}

describe('a tenant reads no host file path in its task history', () => {
  it('tasks.list: the cleanup reads in plain words and the move job has the path removed', async () => {
    const tasks = await tasksWithHostPaths();
    const list = await tasks.list({ kind: 'tenant', tenantId: TENANT }, listTasksInput.parse({}));
    const text = JSON.stringify(list.rows);
    expect(text).not.toContain('/var/lib');
    expect(text).not.toContain('disk0.vhdx');
    const cleanup = list.rows.find((r) => r.id === CLEANUP_ID);
    expect(cleanup?.message).toBe("Removing the VM's old disk copies: failed");
    expect(cleanup?.errorMessage).toMatch(/provider has the details/);
    const move = list.rows.find((r) => r.id === MOVE_ID);
    expect(move?.errorMessage).toBe(
      `storage.cleanup failed (INTERNAL): ENOENT: no such file or directory, stat '${HOST_PATH_PLACEHOLDER}'`,
    );
    expect(move?.steps[0]?.detail).toBe(`storage.cleanup failed (INTERNAL): scandir ${HOST_PATH_PLACEHOLDER}`);
  });

  it('tasks.get: the same for one task', async () => {
    const tasks = await tasksWithHostPaths();
    const one = await tasks.get({ kind: 'tenant', tenantId: TENANT }, CLEANUP_ID);
    expect(JSON.stringify(one)).not.toContain(PATH);
  });

  it('the provider still reads the path (it is what an admin needs to act)', async () => {
    const tasks = await tasksWithHostPaths();
    const one = await tasks.get({ kind: 'provider' }, CLEANUP_ID);
    expect(one.errorMessage).toContain(PATH);
  });
});

describe('the VM page’s task list (vms.get) reads the same for a tenant', () => {
  const detail = (showHost: boolean): VmDetail => ({
    id: 'vm-1',
    name: 'web-1',
    state: 'running',
    stateReason: '',
    tenantId: TENANT,
    tenantName: 'Blue',
    hostId: showHost ? 'h1' : null,
    hostName: showHost ? 'hv-01' : null,
    clusterName: null,
    vcpus: 1,
    memory: { dynamic: false, startupMiB: 512, minimumMiB: 512, maximumMiB: 512, bufferPercent: 20, weight: 5000 },
    storageBytes: 0,
    haPriority: 'medium',
    tags: [],
    groups: [],
    createdAt: new Date('2026-12-04T10:00:00Z'),
    disks: [],
    nics: [],
    tasks: [
      {
        id: CLEANUP_ID,
        kind: 'storage.cleanup',
        state: 'failed',
        progress: 0,
        message: `ENOENT: no such file or directory, scandir '${PATH}'`,
        errorCode: 'INTERNAL',
        requestedBy: 'Admin',
        createdAt: new Date('2026-12-04T11:00:00Z'),
        finishedAt: null,
      },
    ],
    decision: null,
  });

  it('a tenant reads the plain sentence; the provider the path', async () => {
    const c = inMemoryCompute();
    c.vms.getVmDetail = async (_scope, _id, showHost) => detail(showHost);
    const compute = new ComputeService(c.deps);
    const asTenant = await compute.getVm({ kind: 'tenant', tenantId: TENANT }, 'vm-1');
    expect(asTenant.tasks[0]?.message).toBe("Removing the VM's old disk copies: failed");
    expect(JSON.stringify(asTenant)).not.toContain('/var/lib');
    const asProvider = await compute.getVm({ kind: 'provider' }, 'vm-1');
    expect(asProvider.tasks[0]?.message).toContain(PATH);
  });
});

describe('redactHostPaths', () => {
  it.each([
    [`stat '${PATH}'`, `stat '${HOST_PATH_PLACEHOLDER}'`],
    ['rm C:\\ProgramData\\Fabric\\pools\\disk0.vhdx failed', `rm ${HOST_PATH_PLACEHOLDER} failed`],
    ['scandir /tmp/x/y', `scandir ${HOST_PATH_PLACEHOLDER}`],
  ])('%s → %s', (input, output) => {
    expect(redactHostPaths(input)).toBe(output);
  });

  it.each(['Subnet 10.1.1.0/24 on CA/PA records', 'Started in 1.2 s, 3/4 passes', "web-1's disks are on Pool2"])(
    'leaves "%s" alone',
    (text) => {
      expect(redactHostPaths(text)).toBe(text);
    },
  );

  it('a VM task of another kind keeps its own message', () => {
    const task = { kind: 'vm.start', state: 'succeeded', message: 'Started', errorMessage: null };
    expect(tenantTaskText(task)).toEqual(task);
  });
});
