'use client';

import { ALL_TASK_KINDS, isBackgroundKind, PROVIDER_ONLY_KINDS } from '@fabric/core/jobs/task-kinds.schema';
import { SEARCH_MAX_LENGTH } from '@fabric/core/shared/text.schema';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { ListChecks, X } from 'lucide-react';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { Button, buttonClass, Spinner } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Pagination } from '@/components/ui/pagination';
import { RelativeTime } from '@/components/ui/relative-time';
import { SearchInput } from '@/components/ui/search-input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { formatCount, formatDateTime } from '@/lib/format';
import { readEnum, readInt, useUrlState } from '@/lib/use-url-state';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs } from '@/trpc/types';
import { LiveBadge } from './live-badge';
import {
  formatDuration,
  KIND_GROUPS,
  kindLabel,
  type TaskArea,
  type TaskRecord,
  targetHref,
  targetText,
  taskHref,
} from './task-labels';
import { TaskStateCell } from './task-state';
import { ACTIVE_POLL_MS, useLiveTasks } from './use-live-tasks';

type ListInput = RouterInputs['tasks']['list'];

// What the chips say, and the API state each asks for ('running' means queued or running).
const STATE_FILTERS = ['running', 'failed', 'succeeded'] as const;
const API_STATE = { running: 'active', failed: 'failed', succeeded: 'succeeded' } as const;
const SOURCES = ['workflow', 'agent'] as const;
const PAGE_SIZE = 25;

interface KindOption {
  value: string;
  label: string;
}

/**
 * The Kind filter: every kind of task there is (core's task-kinds.schema.ts), grouped,
 * each group with an option for all of it. Tenants are not offered the
 * provider's own (month closes, HA recoveries of hosts), which they never have.
 * Scheduled background kinds say so: picking one lists them.
 */
function kindGroups(area: TaskArea): { label: string; options: KindOption[] }[] {
  const kinds = ALL_TASK_KINDS.filter((k) => area === 'admin' || !PROVIDER_ONLY_KINDS.includes(k));
  const option = (k: string): KindOption => ({
    value: k,
    label: isBackgroundKind(k) ? `${kindLabel(k)} (scheduled)` : kindLabel(k),
  });
  const groups = KIND_GROUPS.flatMap((g) => {
    const members = kinds.filter((k) => k.startsWith(g.prefix));
    if (!members.length) return [];
    const all = members.length > 1 ? [{ value: g.prefix, label: g.any }] : [];
    return [{ label: g.label, options: [...all, ...members.map(option)] }];
  });
  const other = kinds.filter((k) => !KIND_GROUPS.some((g) => k.startsWith(g.prefix)));
  return other.length ? [...groups, { label: 'Other', options: other.map(option) }] : groups;
}

/**
 * The Tasks panel: recent and running long operations (month closes, VM
 * actions carried out by hosts' agents), newest first, filtered and paged on
 * the server, kept live by `tasks.onChange`. The portal gets its tenant's
 * tasks only (the API scopes them). Scheduled background work (replication
 * cycles every few seconds) is left out unless "Show scheduled background
 * work" is ticked, so people's own tasks stay on the first page.
 */
export function TasksView({ area }: { area: TaskArea }) {
  const trpc = useTRPC();
  const { params, update } = useUrlState();
  const live = useLiveTasks();

  const stateFilter = readEnum(params.get('state'), STATE_FILTERS);
  const source = readEnum(params.get('source'), SOURCES);
  const groups = kindGroups(area);
  const kind = groups.flatMap((g) => g.options).find((k) => k.value === params.get('kind'))?.value;
  // Scheduled background work (replication cycles) is left out unless asked for, or its kind is picked.
  const backgroundKind = kind !== undefined && isBackgroundKind(kind);
  const background = params.get('background') === '1';
  // The box follows a click at once; the URL (and the list) catch up as the router replaces it.
  const [backgroundBox, setBackgroundBox] = useState(background);
  useEffect(() => setBackgroundBox(background), [background]);
  const search = params.get('q') ?? '';
  // One target's tasks (a VM page's "All in Tasks"); a UUID or a month, as the API matches it.
  const target = params.get('target') ?? '';
  const page = readInt(params.get('page'), 1, 1, 10_000);

  const input: ListInput = {
    state: stateFilter ? API_STATE[stateFilter] : undefined,
    source,
    kind,
    search: search || undefined,
    targetId: target || undefined,
    background: background || undefined,
    page,
    pageSize: PAGE_SIZE,
  };
  const tasks = useQuery({
    ...trpc.tasks.list.queryOptions(input, { placeholderData: keepPreviousData }),
    // A fallback for the stream: while anything runs, read again every few seconds.
    refetchInterval: (query) => ((query.state.data?.active ?? 0) > 0 ? ACTIVE_POLL_MS : false),
  });
  const filtered = Boolean(stateFilter || source || kind || search || target);
  // Tenants see neither the tenant column (always their own) nor hosts (the provider's business).
  const showTenant = area === 'admin';

  const stateOptions: ChipOption<(typeof STATE_FILTERS)[number] | 'all'>[] = [
    { value: 'all', label: 'All' },
    { value: 'running', label: 'Running', count: tasks.data?.active },
    { value: 'failed', label: 'Failed' },
    { value: 'succeeded', label: 'Succeeded' },
  ];

  function clearAll() {
    update({ state: null, source: null, kind: null, q: null, target: null, background: null, page: null });
  }

  return (
    <>
      <PageHeader
        title="Tasks"
        description={
          area === 'admin'
            ? 'Long operations and VM actions across the fabric: who started them, how far they are and how they ended.'
            : 'Your VM actions and other long operations: how far they are and how they ended.'
        }
        actions={
          <div className="flex items-center gap-4">
            <LiveBadge status={live} />
            {tasks.data ? (
              <span className="text-[12.5px] text-muted tabular" data-testid="tasks-running">
                {tasks.data.active === 0 ? 'Nothing running' : `${formatCount(tasks.data.active)} running`}
              </span>
            ) : null}
          </div>
        }
      />

      <Card className="mb-3 p-3">
        <div className="flex flex-wrap items-end gap-2">
          <SearchInput
            maxLength={SEARCH_MAX_LENGTH}
            value={search}
            onChange={(q) => update({ q, page: null })}
            label="Search tasks"
            placeholder={area === 'admin' ? 'Search target or user' : 'Search VM or user'}
            className="w-full sm:w-72"
          />
          <div className="flex flex-col gap-1">
            <label htmlFor="tasks-kind" className="text-[11.5px] font-medium text-muted">
              Kind
            </label>
            <Select
              id="tasks-kind"
              value={kind ?? ''}
              onChange={(e) => update({ kind: e.target.value || null, page: null })}
              className="w-56"
            >
              <option value="">Any kind</option>
              {groups.map((g) => (
                <optgroup key={g.label} label={g.label}>
                  {g.options.map((k) => (
                    <option key={k.value} value={k.value}>
                      {k.label}
                    </option>
                  ))}
                </optgroup>
              ))}
            </Select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="tasks-source" className="text-[11.5px] font-medium text-muted">
              Run by
            </label>
            <Select
              id="tasks-source"
              value={source ?? ''}
              onChange={(e) => update({ source: e.target.value || null, page: null })}
              className="w-40"
            >
              <option value="">Anyone</option>
              <option value="workflow">The control plane</option>
              <option value="agent">A host’s agent</option>
            </Select>
          </div>
          <label
            className="flex h-8 items-center gap-2 text-[13px] text-fg"
            title={
              backgroundKind
                ? 'Listed: the Kind filter picks scheduled background work'
                : 'Replication cycles and the retention of recovery points, run on a schedule'
            }
          >
            <input
              type="checkbox"
              checked={backgroundBox || backgroundKind}
              disabled={backgroundKind}
              onChange={(e) => {
                setBackgroundBox(e.target.checked);
                update({ background: e.target.checked ? '1' : null, page: null });
              }}
              className="size-3.5 accent-[var(--color-accent)]"
            />
            Show scheduled background work
            <span className="text-muted">(replication cycles)</span>
          </label>
        </div>
        <div className="mt-3 flex flex-wrap items-center gap-2">
          <Chips
            label="Filter by state"
            options={stateOptions}
            value={stateFilter ?? 'all'}
            onChange={(v) => update({ state: v === 'all' ? null : v, page: null })}
          />
          {target ? (
            <span className="inline-flex h-7 items-center gap-1 rounded-full border border-border-strong bg-surface-2 pr-1 pl-2.5 text-[12px]">
              Target{' '}
              <span className="font-mono">
                {tasks.data?.rows[0] ? targetText(tasks.data.rows[0]) : target.slice(0, 8)}
              </span>
              <button
                type="button"
                aria-label="Remove target filter"
                onClick={() => update({ target: null, page: null })}
                className="rounded-full p-0.5 text-muted hover:bg-surface-hover hover:text-fg"
              >
                <X className="size-3" aria-hidden="true" />
              </button>
            </span>
          ) : null}
          {filtered ? (
            <Button size="sm" variant="ghost" onClick={clearAll} className="ml-auto">
              Clear filters
            </Button>
          ) : null}
        </div>
      </Card>

      <Card className="overflow-hidden">
        {tasks.isPending ? (
          <TableSkeleton columns={showTenant ? 8 : 7} />
        ) : tasks.isError && !tasks.data ? (
          <ErrorState
            error={tasks.error}
            title="Could not load the tasks"
            onRetry={() => void tasks.refetch()}
            retrying={tasks.isFetching}
          />
        ) : tasks.data.rows.length === 0 ? (
          <EmptyState
            icon={<ListChecks />}
            title={filtered ? 'No tasks match these filters' : 'No tasks yet'}
            description={
              filtered
                ? 'Clear a filter to see more.'
                : area === 'admin'
                  ? 'Long operations such as closing a month, and VM actions, appear here.'
                  : 'VM actions such as creating, starting or stopping a VM appear here.'
            }
            action={
              filtered ? (
                <button type="button" className={buttonClass('secondary', 'sm')} onClick={clearAll}>
                  Clear filters
                </button>
              ) : undefined
            }
          />
        ) : (
          <>
            <div className={cn('transition-opacity', tasks.isPlaceholderData && 'opacity-60')}>
              <Table aria-label="Tasks" aria-busy={tasks.isFetching || undefined}>
                <THead>
                  <TH>State</TH>
                  <TH>Task</TH>
                  <TH>Target</TH>
                  {showTenant ? <TH>Tenant</TH> : null}
                  {showTenant ? <TH>Host</TH> : null}
                  <TH>Started by</TH>
                  <TH>Started</TH>
                  <TH className="text-right">Duration</TH>
                  <TH className="w-full">Message</TH>
                </THead>
                <tbody>
                  {tasks.data.rows.map((task) => (
                    <TaskRow key={task.id} task={task} area={area} showTenant={showTenant} />
                  ))}
                </tbody>
              </Table>
            </div>
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              total={tasks.data.total}
              onPage={(p) => update({ page: p === 1 ? null : p })}
              noun="tasks"
            />
          </>
        )}
      </Card>
      {tasks.isError && tasks.data ? (
        <p role="alert" className="mt-2 text-[12px] text-danger">
          Could not refresh the tasks; showing what was last read.
        </p>
      ) : tasks.isFetching && !tasks.isPending ? (
        <p className="mt-2 inline-flex items-center gap-1.5 text-[12px] text-muted">
          <Spinner className="size-3" /> Updating…
        </p>
      ) : null}
    </>
  );
}

function TaskRow({ task, area, showTenant }: { task: TaskRecord; area: TaskArea; showTenant: boolean }) {
  const label = kindLabel(task.kind);
  const target = targetText(task);
  const href = targetHref(task, area);
  const failed = task.state === 'failed';
  const message = failed ? (task.errorMessage ?? task.message) : task.message;
  return (
    <TR data-testid="task-row" data-task-id={task.id}>
      <TD>
        <TaskStateCell task={task} label={`${label} ${target}`} />
      </TD>
      <TD>
        <Link
          href={taskHref(task.id, area)}
          className="rounded font-medium text-accent hover:underline"
          title={`${task.kind}: open its steps and details`}
        >
          {label}
        </Link>
      </TD>
      <TD className="max-w-56 truncate">
        {href ? (
          <Link href={href} className="rounded text-fg hover:text-accent hover:underline">
            {target}
          </Link>
        ) : (
          <span className="text-fg">{target}</span>
        )}
      </TD>
      {showTenant ? <TD className="text-muted">{task.tenantName ?? 'Provider'}</TD> : null}
      {showTenant ? <TD className="text-muted">{task.hostName ?? '—'}</TD> : null}
      <TD className="max-w-44 truncate text-muted" title={task.requestedBy}>
        {task.requestedBy || '—'}
      </TD>
      <TD className="tabular">
        <RelativeTime value={task.startedAt ?? task.createdAt} className="text-fg" />
        <span className="sr-only"> ({formatDateTime(task.startedAt ?? task.createdAt)})</span>
      </TD>
      <TD className="tabular text-right text-muted">
        {task.state === 'queued' && !task.startedAt ? 'waiting' : formatDuration(task.durationSeconds)}
      </TD>
      <TD className={cn('max-w-[18rem] truncate', failed ? 'text-danger' : 'text-muted')} title={message}>
        {message || '—'}
      </TD>
    </TR>
  );
}
