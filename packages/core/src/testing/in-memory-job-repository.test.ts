import { describe, expect, it } from 'vitest';
import { listTasksInput } from '../jobs/job.schema';
import type { NewJob } from '../jobs/job-repository';
import { InMemoryJobRepository } from './in-memory-job-repository';

// What the Prisma job repository guarantees and the use cases rely on.

const at = new Date('2026-12-02T09:00:00Z');
const later = new Date('2026-12-02T09:00:30Z');
const job = (id: string, change: Partial<NewJob> = {}): NewJob => ({
  id,
  kind: 'billing.close-month',
  targetType: 'billing-period',
  targetId: '2026-11',
  targetLabel: '2026-11',
  tenantId: null,
  requestedBy: 'fin@provider.test',
  requestedById: 'u-fin',
  steps: [
    { key: 'a', label: 'A' },
    { key: 'b', label: 'B' },
  ],
  message: 'Closing 2026-11',
  ...change,
});

describe('the in-memory job repository', () => {
  it('keeps one active job per kind and target; another target, kind or a finished job does not block', async () => {
    const jobs = new InMemoryJobRepository(() => later);
    await jobs.create(job('j1'), at);

    await expect(jobs.create(job('j2'), at)).rejects.toMatchObject({ code: 'TASK_ALREADY_ACTIVE' });
    await jobs.create(job('j3', { targetId: '2026-10', targetLabel: '2026-10' }), at);
    await jobs.create(job('j4', { kind: 'other.kind' }), at);
    await jobs.update('j1', { state: 'failed' }, at);
    await jobs.create(job('j5'), at);

    expect(jobs.jobs.map((j) => j.id)).toEqual(['j1', 'j3', 'j4', 'j5']);
    expect(await jobs.activeTasks('billing.close-month')).toEqual([
      { id: 'j3', targetId: '2026-10' },
      { id: 'j5', targetId: '2026-11' },
    ]);
  });

  it('sets the fields a patch names, merges its step by key and keeps the first start time', async () => {
    const jobs = new InMemoryJobRepository(() => later);
    await jobs.create(job('j1'), at);
    await jobs.update(
      'j1',
      { state: 'running', startedAt: at, step: { key: 'b', state: 'running', startedAt: at } },
      at,
    );
    await jobs.update('j1', { startedAt: later, progress: 40, step: { key: 'b', detail: '2 of 5' } }, later);

    const record = await jobs.find({ kind: 'provider' }, 'j1');

    expect(record).toMatchObject({
      state: 'running',
      progress: 40,
      message: 'Closing 2026-11',
      startedAt: at.toISOString(),
      durationSeconds: 30,
      steps: [
        { key: 'a', state: 'pending', startedAt: null, detail: '' },
        { key: 'b', state: 'running', startedAt: at.toISOString(), detail: '2 of 5' },
      ],
    });
  });

  it("shows a tenant only its own jobs; another tenant's is missing", async () => {
    const jobs = new InMemoryJobRepository(() => later);
    await jobs.create(job('j1', { tenantId: 't-blue', targetId: 'vm-1' }), at);
    await jobs.create(job('j2', { tenantId: 't-yellow', targetId: 'vm-2' }), later);
    const blue = { kind: 'tenant', tenantId: 't-blue' } as const;

    expect(await jobs.find(blue, 'j2')).toBeNull();
    expect((await jobs.find(blue, 'j1'))?.id).toBe('j1');
    expect((await jobs.list(blue, listTasksInput.parse({}))).rows.map((r) => r.id)).toEqual(['j1']);
    expect((await jobs.list({ kind: 'provider' }, listTasksInput.parse({}))).rows.map((r) => r.id)).toEqual([
      'j2',
      'j1',
    ]);
  });
});
