import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentTask } from '@fabric/core/tasks/task-protocol.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from './log';
import { TaskJournal } from './task-journal';

function task(): AgentTask {
  return { taskId: randomUUID(), kind: 'vm.start', vmId: randomUUID(), spec: null, attempt: 1 };
}

describe('TaskJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records running, finished and acknowledged, and reads it back', async () => {
    const journal = new TaskJournal(dir);
    await journal.load(createMemoryLogger());
    const t = task();
    await journal.markRunning(t);
    const again = new TaskJournal(dir);
    await again.load(createMemoryLogger());
    expect(again.get(t.taskId)?.status).toBe('running');

    await journal.finish(t, { status: 'succeeded', vmState: 'running', message: 'ok' });
    const reread = new TaskJournal(dir);
    await reread.load(createMemoryLogger());
    expect(reread.unacknowledged().map((e) => e.taskId)).toEqual([t.taskId]);
    await journal.acknowledge(t.taskId);
    const last = new TaskJournal(dir);
    await last.load(createMemoryLogger());
    expect(last.get(t.taskId)).toMatchObject({
      status: 'finished',
      acknowledged: true,
      report: { status: 'succeeded' },
    });
    expect(last.unacknowledged()).toEqual([]);
  });

  it('keeps the newest settled entries up to its limit, and every unacknowledged one', async () => {
    const journal = new TaskJournal(dir, 3);
    await journal.load(createMemoryLogger());
    const pending = task();
    await journal.finish(pending, { status: 'failed', code: 'DRIVER_ERROR', message: 'x', vmState: null });
    const settled = Array.from({ length: 6 }, task);
    for (const t of settled) {
      await journal.finish(t, { status: 'succeeded', vmState: 'off', message: '' });
      await journal.acknowledge(t.taskId);
    }
    expect(journal.get(pending.taskId)?.acknowledged).toBe(false);
    expect(settled.map((t) => journal.get(t.taskId) !== undefined)).toEqual([false, false, false, true, true, true]);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'tasks.json'), 'utf8'));
    expect(onDisk.entries).toHaveLength(4);
  });

  it('moves a damaged journal aside instead of trusting or overwriting it', async () => {
    await writeFile(path.join(dir, 'tasks.json'), '{ not json');
    const log = createMemoryLogger();
    const journal = new TaskJournal(dir);
    await journal.load(log);
    expect(journal.size).toBe(0);
    expect((await readdir(dir)).some((f) => f.startsWith('tasks.json.damaged-'))).toBe(true);
    expect(log.lines.some((l) => l.startsWith('warn') && l.includes('not a valid task journal'))).toBe(true);
  });
});
