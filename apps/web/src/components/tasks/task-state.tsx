'use client';

import { Badge } from '@/components/ui/badge';
import { ProgressBar } from '@/components/vms/task-progress';
import { isActive, STATE_LABELS, STATE_TONES, type TaskRecord } from './task-labels';

/** A task's state as a badge; while it runs, its progress under it. */
export function TaskStateCell({ task, label }: { task: Pick<TaskRecord, 'state' | 'progress'>; label: string }) {
  return (
    <div className="flex flex-col gap-1">
      <TaskStateBadge state={task.state} />
      {isActive(task.state) ? (
        <div className="flex w-28 items-center gap-1.5">
          <ProgressBar
            value={task.state === 'queued' && task.progress === 0 ? null : task.progress}
            label={`${label} progress`}
            className="h-1"
          />
          <span className="text-[10.5px] text-muted tabular">{task.progress}%</span>
        </div>
      ) : null}
    </div>
  );
}

export function TaskStateBadge({ state }: { state: TaskRecord['state'] }) {
  return (
    <Badge tone={STATE_TONES[state]} dot pulse={isActive(state)}>
      <span data-testid="task-state">{STATE_LABELS[state]}</span>
    </Badge>
  );
}
