import { describe, expect, it } from 'vitest';
import { type WorkflowContext, WorkflowTakenOverError } from '../workflows/workflow';
import type { JobPatch, JobRepository } from './job-repository';
import { JobTracker } from './job-tracker';

function tracker() {
  const writes: { jobId: string; patch: JobPatch }[] = [];
  const jobs = {
    update: async (jobId: string, patch: JobPatch) => {
      writes.push({ jobId, patch });
    },
  } as unknown as JobRepository;
  const ctx: WorkflowContext = { workflowId: 'wf-1', step: (_name, fn) => fn() };
  return { writes, ctx, tracker: new JobTracker({ jobs, clock: { now: () => new Date('2026-12-04T22:00:00Z') } }) };
}

describe('JobTracker.failed', () => {
  it('marks the job and its running step failed', async () => {
    const { writes, ctx, tracker: t } = tracker();
    await t.failed(ctx, 'job-1', 'restart', new Error('boom'));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.patch).toMatchObject({ state: 'failed', step: { key: 'restart', state: 'failed' } });
  });

  it('writes nothing when another process took the workflow over: that one finishes the job', async () => {
    // A frozen API process that woke after the other took its HA recovery over marked the finished job failed.
    const { writes, ctx, tracker: t } = tracker();
    const takenOver = new WorkflowTakenOverError('wf-1');
    await expect(t.failed(ctx, 'job-1', 'fence', takenOver)).rejects.toBe(takenOver);
    expect(writes).toEqual([]);
  });
});
