'use client';

import { SEARCH_MAX_LENGTH } from '@fabric/core/shared/text.schema';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { ScrollText, X } from 'lucide-react';
import { useMemo } from 'react';
import { Button, buttonClass, Spinner } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Input, Select } from '@/components/ui/input';
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
import { AuditResultBadge } from './audit-result';
import { ActorIcon } from './event-list';

const RESULTS = ['success', 'denied', 'failure'] as const;
const ACTOR_TYPES = ['user', 'agent', 'system'] as const;
const TARGET_TYPES = ['cluster', 'host', 'token', 'tenant', 'user', 'session'] as const;
const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
type RangeKey = keyof typeof RANGES;
const RANGE_KEYS = Object.keys(RANGES) as RangeKey[];
const PAGE_SIZE = 50;

function parseLocal(value: string | null): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The audit log with server-side filters kept in the URL; tenant admins get their tenant's rows from the API. */
export function AuditLogView({ title = 'Audit log' }: { title?: string }) {
  const trpc = useTRPC();
  const { params, update } = useUrlState();

  const search = params.get('q') ?? '';
  const action = params.get('action') ?? '';
  const result = readEnum(params.get('result'), RESULTS);
  const actorType = readEnum(params.get('actor'), ACTOR_TYPES);
  const targetType = params.get('targetType') ?? '';
  const targetId = params.get('targetId') ?? '';
  const range = readEnum(params.get('range'), RANGE_KEYS);
  const custom = params.get('range') === 'custom';
  const fromParam = params.get('from');
  const toParam = params.get('to');
  const page = readInt(params.get('page'), 1, 1, 100_000);

  // A preset range is anchored when chosen, so the query key stays stable while paging.
  const from = useMemo(
    () => (range ? new Date(Date.now() - RANGES[range]) : custom ? parseLocal(fromParam) : undefined),
    [range, custom, fromParam],
  );
  const to = custom ? parseLocal(toParam) : undefined;

  const input = {
    search: search || undefined,
    action: action || undefined,
    result,
    actorType,
    targetType: targetType || undefined,
    targetId: targetId || undefined,
    from,
    to,
    page,
    pageSize: PAGE_SIZE,
  };
  const audit = useQuery(trpc.audit.list.queryOptions(input, { placeholderData: keepPreviousData }));
  const filtered = Boolean(search || action || result || actorType || targetType || targetId || from || to);

  const resultOptions: ChipOption<(typeof RESULTS)[number] | 'all'>[] = [
    { value: 'all', label: 'All results' },
    ...RESULTS.map((r) => ({ value: r, label: r })),
  ];

  function clearAll() {
    update({
      q: null,
      action: null,
      result: null,
      actor: null,
      targetType: null,
      targetId: null,
      range: null,
      from: null,
      to: null,
      page: null,
    });
  }

  return (
    <>
      <PageHeader
        title={title}
        description="Every change and every refused attempt, with who did it and when."
        actions={
          audit.data ? (
            <span className="text-[12.5px] text-muted tabular">{formatCount(audit.data.total)} events</span>
          ) : undefined
        }
      />

      <Card className="mb-3 p-3">
        <div className="flex flex-wrap items-end gap-2">
          <SearchInput
            maxLength={SEARCH_MAX_LENGTH}
            value={search}
            onChange={(q) => update({ q, page: null })}
            label="Search audit log"
            placeholder="Search actor, target or message"
            className="w-full sm:w-72"
          />
          <FilterText
            id="audit-action"
            label="Action"
            value={action}
            placeholder="e.g. host.maintenance"
            onCommit={(v) => update({ action: v, page: null })}
          />
          <div className="flex flex-col gap-1">
            <label htmlFor="audit-actor" className="text-[11.5px] font-medium text-muted">
              Actor
            </label>
            <Select
              id="audit-actor"
              value={actorType ?? ''}
              onChange={(e) => update({ actor: e.target.value || null, page: null })}
              className="w-32"
            >
              <option value="">Any actor</option>
              {ACTOR_TYPES.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </Select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="audit-target" className="text-[11.5px] font-medium text-muted">
              Target
            </label>
            <Select
              id="audit-target"
              value={targetType}
              onChange={(e) => update({ targetType: e.target.value || null, page: null })}
              className="w-32"
            >
              <option value="">Any target</option>
              {TARGET_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </Select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="audit-range" className="text-[11.5px] font-medium text-muted">
              Time
            </label>
            <Select
              id="audit-range"
              value={custom ? 'custom' : (range ?? '')}
              onChange={(e) => update({ range: e.target.value || null, from: null, to: null, page: null })}
              className="w-36"
            >
              <option value="">Any time</option>
              <option value="1h">Last hour</option>
              <option value="24h">Last 24 hours</option>
              <option value="7d">Last 7 days</option>
              <option value="30d">Last 30 days</option>
              <option value="custom">Custom range</option>
            </Select>
          </div>
          {custom ? (
            <>
              <FilterText
                id="audit-from"
                label="From"
                type="datetime-local"
                value={fromParam ?? ''}
                onCommit={(v) => update({ from: v, page: null })}
              />
              <FilterText
                id="audit-to"
                label="To"
                type="datetime-local"
                value={toParam ?? ''}
                onCommit={(v) => update({ to: v, page: null })}
              />
            </>
          ) : null}
        </div>
        <div className="mt-3 flex flex-wrap items-center gap-2">
          <Chips
            label="Filter by result"
            options={resultOptions}
            value={result ?? 'all'}
            onChange={(v) => update({ result: v === 'all' ? null : v, page: null })}
          />
          {targetId ? (
            <span className="inline-flex h-7 items-center gap-1 rounded-full border border-border-strong bg-surface-2 pr-1 pl-2.5 text-[12px]">
              Target <span className="font-mono">{targetId.slice(0, 8)}</span>
              <button
                type="button"
                aria-label="Remove target filter"
                onClick={() => update({ targetId: null, page: null })}
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
        {audit.isPending ? (
          <TableSkeleton columns={6} />
        ) : audit.isError && !audit.data ? (
          <ErrorState
            error={audit.error}
            title="Could not load the audit log"
            onRetry={() => void audit.refetch()}
            retrying={audit.isFetching}
          />
        ) : audit.data.rows.length === 0 && page > 1 && audit.data.total > 0 ? (
          // A page past the last (an old link, a hand-edited URL): the events exist, this page holds none.
          <EmptyState
            icon={<ScrollText />}
            title={`There is no page ${page.toLocaleString('en-US')}`}
            description={`${audit.data.total.toLocaleString('en-US')} event${audit.data.total === 1 ? '' : 's'} match; they end on an earlier page.`}
            action={
              <button type="button" className={buttonClass('secondary', 'sm')} onClick={() => update({ page: null })}>
                Go to the first page
              </button>
            }
          />
        ) : audit.data.rows.length === 0 ? (
          <EmptyState
            icon={<ScrollText />}
            title={filtered ? 'No events match these filters' : 'No events recorded yet'}
            description={
              filtered
                ? 'Widen the time range or clear a filter.'
                : 'Changes made in the console and by agents appear here.'
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
            <div className={cn('transition-opacity', audit.isPlaceholderData && 'opacity-60')}>
              <Table aria-label="Audit events" aria-busy={audit.isFetching || undefined}>
                <THead>
                  <TH>Time</TH>
                  <TH>Actor</TH>
                  <TH>Action</TH>
                  <TH>Target</TH>
                  <TH>Result</TH>
                  <TH className="w-full">Message</TH>
                </THead>
                <tbody>
                  {audit.data.rows.map((row) => (
                    <TR key={row.id}>
                      <TD className="tabular">
                        <span className="text-fg">{formatDateTime(row.at)}</span>
                        <RelativeTime value={row.at} className="ml-2 text-[12px] text-subtle" />
                      </TD>
                      <TD>
                        <span className="inline-flex items-center gap-1.5">
                          <ActorIcon type={row.actorType} />
                          <bdi className="max-w-48 truncate">{row.actorLabel}</bdi>
                        </span>
                      </TD>
                      <TD>
                        <button
                          type="button"
                          onClick={() => update({ action: row.action, page: null })}
                          className="rounded font-mono text-[12px] hover:text-accent hover:underline"
                          title="Show only this action"
                        >
                          {row.action}
                        </button>
                      </TD>
                      <TD className="text-muted">
                        <span className="text-subtle">{row.targetType}</span>{' '}
                        {row.targetId ? (
                          <button
                            type="button"
                            onClick={() => update({ targetId: row.targetId, page: null })}
                            className="rounded text-fg hover:text-accent hover:underline"
                            title="Show only this target"
                          >
                            <bdi className="inline-block max-w-56 truncate align-bottom">
                              {row.targetLabel ?? row.targetId.slice(0, 8)}
                            </bdi>
                          </button>
                        ) : (
                          <bdi className="inline-block max-w-56 truncate align-bottom text-fg">
                            {row.targetLabel ?? '—'}
                          </bdi>
                        )}
                      </TD>
                      <TD>
                        <AuditResultBadge result={row.result} />
                      </TD>
                      {/* A table cell ignores max-width: the block inside it is what truncates (long messages ran past 1280 px). */}
                      <TD className="text-muted" title={row.message}>
                        <div className="max-w-[22rem] truncate">
                          <bdi>{row.message}</bdi>
                        </div>
                      </TD>
                    </TR>
                  ))}
                </tbody>
              </Table>
            </div>
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              total={audit.data.total}
              onPage={(p) => update({ page: p === 1 ? null : p })}
              noun="events"
            />
          </>
        )}
      </Card>
      {audit.isFetching && !audit.isPending ? (
        <p className="mt-2 inline-flex items-center gap-1.5 text-[12px] text-muted">
          <Spinner className="size-3" /> Updating…
        </p>
      ) : null}
    </>
  );
}

/** A text filter that applies on Enter or when focus leaves, not on every key. */
function FilterText({
  id,
  label,
  value,
  placeholder,
  type = 'text',
  onCommit,
}: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  type?: 'text' | 'datetime-local';
  onCommit: (value: string) => void;
}) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-[11.5px] font-medium text-muted">
        {label}
      </label>
      <Input
        key={value}
        id={id}
        type={type}
        defaultValue={value}
        placeholder={placeholder}
        onBlur={(e) => {
          if (e.target.value !== value) onCommit(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onCommit(e.currentTarget.value);
        }}
        className={type === 'text' ? 'w-44 font-mono text-[12px]' : 'w-52 tabular'}
      />
    </div>
  );
}
