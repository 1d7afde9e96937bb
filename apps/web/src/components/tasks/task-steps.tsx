import { CheckCircle2, Circle, Loader2, XCircle } from 'lucide-react';
import { cn } from '@/lib/cn';
import { formatDateTime } from '@/lib/format';
import { formatDuration, type TaskStep } from './task-labels';

const STEP_STATE_TEXT: Record<TaskStep['state'], string> = {
  pending: 'Not started',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
};

function StepIcon({ state }: { state: TaskStep['state'] }) {
  const common = 'size-4 shrink-0';
  if (state === 'done')
    return <CheckCircle2 className={cn(common, 'text-emerald-600 dark:text-emerald-400')} aria-hidden />;
  if (state === 'failed') return <XCircle className={cn(common, 'text-danger')} aria-hidden />;
  if (state === 'running') return <Loader2 className={cn(common, 'animate-spin text-accent')} aria-hidden />;
  return <Circle className={cn(common, 'text-subtle')} aria-hidden />;
}

function stepSeconds(step: TaskStep): number | null {
  if (!step.startedAt || !step.finishedAt) return null;
  return Math.max(0, (new Date(step.finishedAt).getTime() - new Date(step.startedAt).getTime()) / 1000);
}

/** A workflow's steps, in order, as a vertical timeline: state, times and what each did. */
export function TaskSteps({ steps }: { steps: TaskStep[] }) {
  return (
    <ol aria-label="Steps" className="flex flex-col">
      {steps.map((step, i) => {
        const seconds = stepSeconds(step);
        const last = i === steps.length - 1;
        return (
          <li
            key={step.key}
            data-testid="task-step"
            data-state={step.state}
            className="relative flex gap-3 pb-4 last:pb-0"
          >
            {last ? null : (
              <span
                aria-hidden="true"
                className={cn(
                  'absolute top-5 bottom-0 left-[7.5px] w-px',
                  step.state === 'done' ? 'bg-emerald-500/40' : 'bg-border-strong',
                )}
              />
            )}
            <span className="mt-0.5">
              <StepIcon state={step.state} />
            </span>
            <div className="min-w-0 flex-1">
              <div className="flex flex-wrap items-baseline justify-between gap-x-3">
                <p className={cn('text-[13px] font-medium', step.state === 'pending' ? 'text-muted' : 'text-fg')}>
                  {step.label}
                  <span className="sr-only">: {STEP_STATE_TEXT[step.state]}</span>
                </p>
                <p className="text-[12px] text-muted tabular">
                  {step.startedAt ? formatDateTime(step.startedAt) : STEP_STATE_TEXT[step.state]}
                  {seconds !== null ? ` · ${formatDuration(seconds)}` : ''}
                </p>
              </div>
              {step.detail ? (
                <p className={cn('mt-0.5 text-[12.5px]', step.state === 'failed' ? 'text-danger' : 'text-muted')}>
                  {step.detail}
                </p>
              ) : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
