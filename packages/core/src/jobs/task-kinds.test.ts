import { describe, expect, it } from 'vitest';
import { CLOSE_MONTH_KIND } from '../chargeback/invoice';
import { BRING_BACK_JOB_KIND } from '../mobility/bring-back-vms';
import { MIGRATE_VM_JOB_KIND, MOVE_VM_STORAGE_JOB_KIND } from '../mobility/migrate-vm';
import { REPLICATION_JOB_KINDS } from '../replication/replication-service';
import { TASK_KINDS } from '../tasks/task-protocol.schema';
import { InMemoryJobRepository } from '../testing/in-memory-job-repository';
import { listTasksInput } from './job.schema';
import {
  ALL_TASK_KINDS,
  BACKGROUND_TASK_KINDS,
  hiddenTaskKinds,
  isBackgroundKind,
  JOB_KINDS,
} from './task-kinds.schema';
import { TaskLogService } from './task-log-service';

const BLUE = '11111111-1111-4111-8111-111111111111';
const YELLOW = '22222222-2222-4222-8222-222222222222';

describe('the kinds of task', () => {
  it('lists every job kind the services create (the console’s Kind filter is built from it)', () => {
    const created = [
      CLOSE_MONTH_KIND,
      'ha.recover-host',
      MIGRATE_VM_JOB_KIND,
      MOVE_VM_STORAGE_JOB_KIND,
      BRING_BACK_JOB_KIND,
      // replication.cycle names the cycles' workflow; no job of that kind is created.
      ...Object.values(REPLICATION_JOB_KINDS).filter((k) => k !== REPLICATION_JOB_KINDS.cycle),
    ];
    expect([...JOB_KINDS].sort()).toEqual([...created].sort());
    expect(ALL_TASK_KINDS).toEqual(expect.arrayContaining([...TASK_KINDS]));
  });

  it('background work is the replication cycle and its retention, nothing someone starts', () => {
    expect([...BACKGROUND_TASK_KINDS].sort()).toEqual(['replica.cycle', 'replica.retain']);
    for (const kind of [
      'replica.accept',
      'replica.test-failover',
      'replica.failover',
      'replica.remove',
      'replication.enable',
      'replication.remove',
      'mobility.migrate-vm',
      'ha.recover-host',
      'vm.start',
    ]) {
      expect(isBackgroundKind(kind), kind).toBe(false);
    }
  });

  it('is hidden unless asked for, with the flag or by naming its kind', () => {
    expect(hiddenTaskKinds({ background: false })).toEqual(BACKGROUND_TASK_KINDS);
    expect(hiddenTaskKinds({ background: true })).toEqual([]);
    expect(hiddenTaskKinds({ background: false, kind: 'replica.retain' })).toEqual([]);
    expect(hiddenTaskKinds({ background: false, kind: 'replica.' })).toEqual(BACKGROUND_TASK_KINDS);
  });
});

describe('TaskLogService.list and background work', () => {
  async function service() {
    const jobs = new InMemoryJobRepository(() => new Date('2026-12-04T12:00:00Z'));
    const job = async (id: string, kind: string, tenantId: string, minute: number) => {
      await jobs.create(
        {
          id,
          kind,
          targetType: 'vm',
          targetId: `vm-${tenantId.slice(0, 1)}`,
          targetLabel: 'dr-web-01',
          tenantId,
          requestedBy: kind.startsWith('replica.') ? 'replication' : 'alice@blue.example',
          requestedById: null,
          steps: [],
          message: '',
        },
        new Date(Date.UTC(2026, 11, 4, 11, minute)),
      );
      // Blue's cycle is still running; everything else ended.
      const state = kind === 'replica.cycle' && tenantId === BLUE ? 'running' : 'succeeded';
      await jobs.update(id, { state }, new Date(Date.UTC(2026, 11, 4, 11, minute, 30)));
    };
    await job('00000000-0000-4000-8000-000000000001', 'replication.enable', BLUE, 0);
    await job('00000000-0000-4000-8000-000000000002', 'replica.cycle', BLUE, 1);
    await job('00000000-0000-4000-8000-000000000003', 'replica.retain', BLUE, 2);
    await job('00000000-0000-4000-8000-000000000004', 'replication.remove', BLUE, 3);
    await job('00000000-0000-4000-8000-000000000005', 'replica.cycle', YELLOW, 4);
    return new TaskLogService({ jobs });
  }
  const blue = { kind: 'tenant', tenantId: BLUE } as const;

  it('leaves cycles out by default, keeps what the tenant started', async () => {
    const list = await (await service()).list(blue, listTasksInput.parse({}));
    expect(list.rows.map((r) => r.kind)).toEqual(['replication.remove', 'replication.enable']);
    expect(list.total).toBe(2);
    expect(list.active).toBe(0);
  });

  it('lists them with background, only the tenant’s own', async () => {
    const list = await (await service()).list(blue, listTasksInput.parse({ background: true }));
    expect(list.rows.map((r) => r.kind)).toEqual([
      'replication.remove',
      'replica.retain',
      'replica.cycle',
      'replication.enable',
    ]);
    expect(list.active).toBe(1);
    expect(list.rows.every((r) => r.tenantId === BLUE)).toBe(true);
    const provider = await (await service()).list({ kind: 'provider' }, listTasksInput.parse({ background: true }));
    expect(provider.total).toBe(5);
  });

  it('background defaults to false and is a boolean', () => {
    expect(listTasksInput.parse({}).background).toBe(false);
    expect(listTasksInput.safeParse({ background: 'true' }).success).toBe(false);
  });
});
