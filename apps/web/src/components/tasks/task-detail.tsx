'use client';

import { useQuery } from '@tanstack/react-query';
import { AlertTriangle, CheckCircle2, ChevronRight, ListChecks } from 'lucide-react';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { buttonClass } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { RelativeTime } from '@/components/ui/relative-time';
import { Skeleton } from '@/components/ui/skeleton';
import { ProgressBar } from '@/components/vms/task-progress';
import { errorCode } from '@/lib/errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { LiveBadge } from './live-badge';
import { formatDuration, isActive, kindLabel, type TaskArea, targetHref, targetText } from './task-labels';
import { TaskStateBadge } from './task-state';
import { TaskSteps } from './task-steps';
import { ACTIVE_POLL_MS, useLiveTasks } from './use-live-tasks';

/** One task: its progress, steps, and how it ended; live while it runs. */
export function TaskDetail({ id, area }: { id: string; area: TaskArea }) {
  const trpc = useTRPC();
  const live = useLiveTasks();
  const task = useQuery({
    ...trpc.tasks.get.queryOptions({ id }),
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.state) ? ACTIVE_POLL_MS : false),
    retry: (count, error) => errorCode(error) !== 'NOT_FOUND' && errorCode(error) !== 'BAD_REQUEST' && count < 2,
  });
  const base = `/${area}/tasks`;

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href={base} className="rounded hover:text-fg hover:underline">
        Tasks
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        {task.data ? `${kindLabel(task.data.kind)} · ${targetText(task.data)}` : '…'}
      </span>
    </nav>
  );

  if (task.isPending) {
    return (
      <div role="status" aria-label="Loading">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <Skeleton className="h-6 w-56" />
        <Skeleton className="mt-2 mb-6 h-4 w-96" />
        <div className="grid grid-cols-1 gap-5 xl:grid-cols-3">
          <Skeleton className="h-64 rounded-lg xl:col-span-2" />
          <Skeleton className="h-64 rounded-lg" />
        </div>
      </div>
    );
  }
  if (task.isError) {
    const missing = errorCode(task.error) === 'NOT_FOUND' || errorCode(task.error) === 'BAD_REQUEST';
    return (
      <>
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <Card>
          {missing ? (
            <EmptyState
              icon={<ListChecks />}
              title="Task not found"
              description="It may belong to someone else, or the link is wrong."
              action={
                <Link href={base} className={buttonClass('secondary', 'sm')}>
                  Back to tasks
                </Link>
              }
            />
          ) : (
            <ErrorState
              error={task.error}
              title="Could not load the task"
              onRetry={() => void task.refetch()}
              retrying={task.isFetching}
            />
          )}
        </Card>
      </>
    );
  }

  const t = task.data;
  const label = kindLabel(t.kind);
  const target = targetText(t);
  const href = targetHref(t, area);
  const active = isActive(t.state);
  // Queued behind another task (a start behind its create): not running, no progress to speak of.
  const waiting = t.state === 'queued' && !t.startedAt;
  return (
    <>
      <PageHeader
        breadcrumb={breadcrumb}
        title={
          <span className="inline-flex items-center gap-3">
            {label} · {target}
            <TaskStateBadge state={t.state} />
          </span>
        }
        description={
          t.source === 'agent'
            ? `Carried out by ${t.hostName ? `the agent on ${t.hostName}` : 'a host’s agent'}.`
            : 'Run by the control plane as a durable workflow: a restart resumes it where it stopped.'
        }
        actions={<LiveBadge status={live} />}
      />
      <div className="grid grid-cols-1 gap-5 xl:grid-cols-3">
        <div className="flex flex-col gap-5 xl:col-span-2">
          {t.state === 'succeeded' ? null : (
            <Card>
              <CardBody className="flex flex-col gap-2">
                <div className="flex items-baseline justify-between gap-3 text-[13px]">
                  <span className="font-medium text-fg" data-testid="task-message">
                    {waiting
                      ? t.message || 'Queued: waiting for the host (it runs after the tasks ahead of it)'
                      : active
                        ? t.message || 'Working…'
                        : t.state === 'failed'
                          ? 'Stopped'
                          : t.message || 'Cancelled'}
                  </span>
                  <span className="text-muted tabular" data-testid="task-progress">
                    {waiting ? '—' : `${t.progress}%`}
                  </span>
                </div>
                <ProgressBar
                  value={t.state === 'queued' && t.progress === 0 ? null : t.progress}
                  label={`${label} progress`}
                  tone={t.state === 'failed' ? 'red' : 'accent'}
                />
              </CardBody>
            </Card>
          )}

          {t.state === 'failed' ? (
            <div
              role="alert"
              className="flex items-start gap-3 rounded-lg border border-danger/30 bg-danger-soft px-4 py-3 text-[13px]"
            >
              <AlertTriangle className="mt-0.5 size-4 shrink-0 text-danger" aria-hidden="true" />
              <div className="min-w-0">
                <p className="font-semibold text-danger">
                  Failed{t.errorCode ? <span className="ml-2 font-mono text-[12px]">{t.errorCode}</span> : null}
                </p>
                <p className="mt-0.5 text-fg">{t.errorMessage ?? t.message ?? 'No reason was given.'}</p>
              </div>
            </div>
          ) : t.state === 'succeeded' ? (
            <div
              role="status"
              data-testid="task-result"
              className="flex items-start gap-3 rounded-lg border border-emerald-600/25 bg-emerald-50 px-4 py-3 text-[13px] dark:border-emerald-400/25 dark:bg-emerald-500/10"
            >
              <CheckCircle2 className="mt-0.5 size-4 shrink-0 text-emerald-600 dark:text-emerald-400" aria-hidden />
              <p className="text-fg">{t.message || 'Done'}</p>
            </div>
          ) : null}

          <Card>
            <CardHeader
              title="Steps"
              description={
                t.steps.length > 0
                  ? `${t.steps.filter((s) => s.state === 'done').length} of ${t.steps.length} done`
                  : undefined
              }
            />
            <CardBody>
              {t.steps.length > 0 ? (
                <TaskSteps steps={t.steps} />
              ) : (
                <p className="text-[12.5px] text-muted">
                  The host’s agent carries this out in one go and reports its progress above.
                </p>
              )}
            </CardBody>
          </Card>
        </div>

        <Card className="h-fit">
          <CardHeader title="Details" />
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 px-4 py-3 text-[13px]">
            <Fact term="Target">
              {href ? (
                <Link href={href} className="rounded text-accent hover:underline">
                  {target}
                </Link>
              ) : (
                target
              )}
            </Fact>
            {area === 'admin' ? <Fact term="Tenant">{t.tenantName ?? 'Provider'}</Fact> : null}
            {t.hostName ? <Fact term="Host">{t.hostName}</Fact> : null}
            <Fact term="Started by">{t.requestedBy || '—'}</Fact>
            <Fact term="Requested">
              <Timestamp value={t.createdAt} />
            </Fact>
            <Fact term="Started">{t.startedAt ? <Timestamp value={t.startedAt} /> : 'Waiting'}</Fact>
            <Fact term="Finished">
              {t.finishedAt ? <Timestamp value={t.finishedAt} /> : waiting ? 'Not started' : active ? 'Running' : '—'}
            </Fact>
            <Fact term="Duration">
              <span className="tabular">{waiting ? 'Waiting' : formatDuration(t.durationSeconds)}</span>
            </Fact>
            <Fact term="Kind">
              <span className="font-mono text-[12px]">{t.kind}</span>
            </Fact>
            <Fact term="Task id">
              <span className="font-mono text-[12px] break-all">{t.id}</span>
            </Fact>
          </dl>
        </Card>
      </div>
    </>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted">{term}</dt>
      <dd className="min-w-0 text-fg">{children}</dd>
    </>
  );
}

function Timestamp({ value }: { value: string }) {
  return (
    <span className="tabular">
      {formatDateTime(value)} <RelativeTime value={value} className="text-[12px] text-subtle" />
    </span>
  );
}
