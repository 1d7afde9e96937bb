'use client';

import type { HostTrace, ScoreTrace, VerdictTrace } from '@fabric/core/placement/place';
import { useQuery } from '@tanstack/react-query';
import { Check, ChevronDown, ChevronRight, Route } from 'lucide-react';
import Link from 'next/link';
import { Fragment, type ReactNode, useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton, TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { errorCode } from '@/lib/errors';
import { formatBytes, formatCount, formatDateTime, formatMbps, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

/** The request as stored with the decision (core PlacementRequest), read defensively: it is JSON. */
interface RequestView {
  vcpus: number;
  memoryMiB: number;
  disks: { sizeBytes: number; pool?: string }[];
  nics: { minBandwidthMbps?: number }[];
  haPriority: string;
  groups: { name: string; kind: string; hard: boolean }[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRequest(value: unknown): RequestView | null {
  if (!isRecord(value)) return null;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isRecord) : []);
  return {
    vcpus: n(value.vcpus),
    memoryMiB: n(value.memoryMiB),
    disks: list(value.disks).map((d) => ({
      sizeBytes: n(d.sizeBytes),
      ...(typeof d.pool === 'string' ? { pool: d.pool } : {}),
    })),
    nics: list(value.nics).map((nic) =>
      typeof nic.minBandwidthMbps === 'number' ? { minBandwidthMbps: nic.minBandwidthMbps } : {},
    ),
    haPriority: typeof value.haPriority === 'string' ? value.haPriority : '—',
    groups: list(value.groups).map((g) => ({
      // Groups are stored per tenant as "<tenantId>:<name>"; people named them without the prefix.
      name: typeof g.name === 'string' ? g.name.replace(/^[0-9a-f-]{36}:/, '') : '?',
      kind: typeof g.kind === 'string' ? g.kind : '?',
      hard: g.hard === true,
    })),
  };
}

function isHostTrace(value: unknown): value is HostTrace {
  return (
    isRecord(value) &&
    typeof value.hostId === 'string' &&
    typeof value.hostName === 'string' &&
    Array.isArray(value.verdicts) &&
    Array.isArray(value.scores)
  );
}

function readTrace(value: unknown): HostTrace[] {
  return Array.isArray(value) ? value.filter(isHostTrace) : [];
}

/** Filter and scorer names in the order the pipeline ran them (first host that shows each). */
function columnsOf(trace: HostTrace[]) {
  const filters: string[] = [];
  const scorers: string[] = [];
  for (const host of trace) {
    for (const v of host.verdicts) if (!filters.includes(v.filter)) filters.push(v.filter);
    for (const s of host.scores) if (!scorers.includes(s.scorer)) scorers.push(s.scorer);
  }
  return { filters, scorers };
}

/** People's names for the pipeline's plugins (core/placement/filters, scorers); the code name stays in the tooltip. */
const PLUGIN_LABELS: Record<string, string> = {
  'host-state': 'Host state',
  cpu: 'CPU',
  memory: 'Memory',
  storage: 'Storage',
  'vm-limits': 'VM limits (cluster, host)',
  'nic-qos': 'Network bandwidth (QoS)',
  affinity: 'Affinity',
  'anti-affinity': 'Anti-affinity',
  'tenant-dedication': 'Dedicated hosts',
  'cpu-headroom': 'CPU headroom',
  'memory-headroom': 'Memory headroom',
  'ha-headroom': 'HA headroom',
  'numa-fit': 'NUMA fit',
  'soft-affinity': 'Soft affinity',
};

/** A plugin's label; an unknown one reads as words ("new-filter" → "New filter"). */
export function pluginLabel(name: string): string {
  const known = PLUGIN_LABELS[name];
  if (known) return known;
  const words = name.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function DecisionView({ id }: { id: string }) {
  const trpc = useTRPC();
  const decision = useQuery(trpc.placement.decision.queryOptions({ id }));

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href="/admin/vms" className="hover:text-fg hover:underline">
        Virtual machines
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      {decision.data?.vmId ? (
        <>
          <Link href={`/admin/vms/${decision.data.vmId}`} className="hover:text-fg hover:underline">
            {decision.data.vmName}
          </Link>
          <ChevronRight className="size-3.5" aria-hidden="true" />
        </>
      ) : null}
      <span aria-current="page" className="text-fg">
        Placement decision
      </span>
    </nav>
  );

  if (decision.isPending) {
    return (
      <div role="status" aria-label="Loading">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <Skeleton className="h-6 w-72" />
        <Skeleton className="mt-2 mb-6 h-4 w-96" />
        <Card>
          <TableSkeleton rows={6} columns={8} />
        </Card>
      </div>
    );
  }
  if (decision.isError) {
    return (
      <Card>
        {errorCode(decision.error) === 'NOT_FOUND' ? (
          <EmptyState
            icon={<Route />}
            title="Decision not found"
            action={
              <Link href="/admin/vms" className={buttonClass('secondary', 'sm')}>
                Back to virtual machines
              </Link>
            }
          />
        ) : (
          <ErrorState
            error={decision.error}
            title="Could not load this decision"
            onRetry={() => void decision.refetch()}
            retrying={decision.isFetching}
          />
        )}
      </Card>
    );
  }

  const d = decision.data;
  const request = readRequest(d.request);
  const trace = readTrace(d.trace);
  const candidates = trace.filter((h) => h.rank !== null).length;

  return (
    <>
      <header className="mb-5">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <div className="flex flex-wrap items-center gap-2.5">
          <h1 className="text-[19px] font-semibold tracking-[-0.01em]">
            Why {d.hostName ? <span className="font-mono">{d.hostName}</span> : 'no host'} for {d.vmName}
          </h1>
          {d.hostName ? (
            <Badge tone="green" dot>
              placed
            </Badge>
          ) : (
            <Badge tone="red" dot>
              refused
            </Badge>
          )}
        </div>
        <p className="mt-1 text-[13px] text-fg" data-testid="decision-summary">
          {d.summary}
        </p>
        <p className="mt-1 text-[12.5px] text-muted tabular">
          Decided {formatDateTime(d.createdAt)} · {candidates} of {trace.length} host{trace.length === 1 ? '' : 's'} fit
        </p>
      </header>

      <div className="mb-5 grid grid-cols-1 gap-5 lg:grid-cols-3">
        <Card>
          <CardHeader title="Policy" description="How hosts that fit are ranked" />
          <dl className="grid grid-cols-2 gap-4 p-4 text-[13px]">
            <Pair label="Profile" value={<span className="capitalize">{d.policy}</span>} />
            <Pair label="Seed" value={<span className="font-mono">{d.seed}</span>} sub="tie-break order" />
          </dl>
          <p className="border-t border-border px-4 py-2.5 text-[12px] text-muted">
            {d.policy === 'pack'
              ? 'Pack: fill the fullest hosts first, keeping whole hosts free.'
              : 'Balance: spread load, preferring the hosts with the most room.'}
          </p>
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader title="Request" description="What the VM asked of a host" />
          {request ? (
            <dl className="grid grid-cols-2 gap-4 p-4 text-[13px] md:grid-cols-4">
              <Pair label="vCPUs" value={formatCount(request.vcpus)} />
              <Pair label="Memory" value={formatMiB(request.memoryMiB)} sub="static or startup" />
              <Pair
                label="Disks"
                value={formatBytes(request.disks.reduce((s, x) => s + x.sizeBytes, 0))}
                sub={
                  request.disks.map((x) => `${formatBytes(x.sizeBytes)}${x.pool ? ` on ${x.pool}` : ''}`).join(', ') ||
                  'none'
                }
              />
              <Pair
                label="NICs"
                value={formatCount(request.nics.length)}
                sub={
                  request.nics
                    .map((x) => (x.minBandwidthMbps ? `${formatMbps(x.minBandwidthMbps)} min` : 'no reservation'))
                    .join(', ') || 'none'
                }
              />
              <Pair label="HA priority" value={<span className="capitalize">{request.haPriority}</span>} />
              {request.groups.length > 0 ? (
                <Pair
                  label="Groups"
                  value={formatCount(request.groups.length)}
                  sub={request.groups.map((g) => `${g.name} (${g.hard ? 'hard' : 'soft'} ${g.kind})`).join(', ')}
                />
              ) : null}
            </dl>
          ) : (
            <p className="p-4 text-[13px] text-muted">The request was not recorded.</p>
          )}
        </Card>
      </div>

      <Card className="overflow-hidden">
        <CardHeader
          title="Hosts considered"
          description="Candidates in rank order, then rejected hosts. Expand a row for the numbers behind it."
        />
        {trace.length === 0 ? (
          <EmptyState
            icon={<Route />}
            title="No hosts were considered"
            description="The cluster had no hosts to place on."
          />
        ) : (
          <TraceTable trace={trace} chosenId={d.hostId} />
        )}
      </Card>
    </>
  );
}

function Pair({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-[12px] text-muted">{label}</dt>
      <dd className="mt-0.5 font-semibold text-fg tabular">{value}</dd>
      {sub ? (
        <dd className="mt-0.5 truncate text-[11.5px] text-muted" title={typeof sub === 'string' ? sub : undefined}>
          {sub}
        </dd>
      ) : null}
    </div>
  );
}

function TraceTable({ trace, chosenId }: { trace: HostTrace[]; chosenId: string | null }) {
  const { filters, scorers } = columnsOf(trace);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const maxContribution = Math.max(1, ...trace.flatMap((h) => h.scores.map((s) => Math.abs(s.contribution))));
  const width = 3 + filters.length + scorers.length;

  return (
    <Table aria-label="Placement trace" data-testid="placement-trace">
      <THead>
        <TH className="w-14">Rank</TH>
        <TH>Host</TH>
        <TH className="text-right">Score</TH>
        {filters.map((f) => (
          <TH key={f} className="whitespace-normal align-bottom leading-tight" title={`Filter: ${f}`}>
            {pluginLabel(f)}
          </TH>
        ))}
        {scorers.map((s) => (
          <TH
            key={s}
            className="whitespace-normal align-bottom leading-tight"
            title={`Scorer: ${s} (contribution = normalized × weight)`}
          >
            {pluginLabel(s)}
          </TH>
        ))}
      </THead>
      <tbody>
        {trace.map((host) => {
          const expanded = open.has(host.hostId);
          const rejected = host.rank === null;
          return (
            <Fragment key={host.hostId}>
              <TR
                data-testid="trace-row"
                data-rejected={rejected || undefined}
                className={cn(host.hostId === chosenId && 'bg-emerald-500/5', rejected && 'text-muted')}
              >
                <TD className="tabular">
                  {host.rank === null ? <span className="text-subtle">—</span> : `#${host.rank}`}
                </TD>
                <TD>
                  <button
                    type="button"
                    aria-expanded={expanded}
                    aria-label={`${expanded ? 'Hide' : 'Show'} the numbers for ${host.hostName}`}
                    onClick={() =>
                      setOpen((old) => {
                        const next = new Set(old);
                        if (next.has(host.hostId)) next.delete(host.hostId);
                        else next.add(host.hostId);
                        return next;
                      })
                    }
                    className="-ml-1 inline-flex items-center gap-1 rounded px-1 font-medium text-fg hover:bg-surface-hover"
                  >
                    {expanded ? (
                      <ChevronDown className="size-3.5 text-muted" aria-hidden="true" />
                    ) : (
                      <ChevronRight className="size-3.5 text-muted" aria-hidden="true" />
                    )}
                    {host.hostName}
                  </button>
                  {host.hostId === chosenId ? (
                    <Badge tone="green" className="ml-1.5">
                      chosen
                    </Badge>
                  ) : null}
                  {rejected ? (
                    <Badge tone="red" className="ml-1.5">
                      rejected
                    </Badge>
                  ) : null}
                </TD>
                <TD className="text-right font-semibold tabular">
                  {host.total === null ? '—' : host.total.toFixed(1)}
                </TD>
                {filters.map((f) => (
                  <TD key={f} className="max-w-56 whitespace-normal py-1.5">
                    <VerdictCell verdict={host.verdicts.find((v) => v.filter === f)} candidate={!rejected} />
                  </TD>
                ))}
                {scorers.map((s) => (
                  <TD key={s}>
                    <ScoreCell score={host.scores.find((x) => x.scorer === s)} max={maxContribution} />
                  </TD>
                ))}
              </TR>
              {expanded ? (
                <tr className="border-b border-border bg-surface-2/60">
                  <td colSpan={width} className="px-4 py-3">
                    {/* Stays in view while the wide table scrolls sideways. */}
                    <div className="sticky left-4 max-w-[calc(100vw-22rem)]">
                      <HostNumbers host={host} />
                    </div>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </Table>
  );
}

function VerdictCell({ verdict, candidate }: { verdict: VerdictTrace | undefined; candidate: boolean }) {
  // Summary traces list no verdicts for candidates: every filter passed. A rejected host stops at its first failure.
  if (!verdict) {
    return candidate ? (
      <Check className="size-3.5 text-emerald-500" aria-label="passed" />
    ) : (
      <span className="text-subtle" title="Not checked: an earlier filter already rejected the host">
        ·
      </span>
    );
  }
  if (verdict.ok) return <Check className="size-3.5 text-emerald-500" aria-label="passed" />;
  return (
    <span className="text-[12px] leading-snug text-danger" title={verdict.code}>
      {verdict.reason ?? verdict.code ?? 'failed'}
    </span>
  );
}

function ScoreCell({ score, max }: { score: ScoreTrace | undefined; max: number }) {
  if (!score) return <span className="text-subtle">—</span>;
  const negative = score.contribution < 0;
  return (
    <div
      className="flex items-center gap-1.5"
      title={`raw ${formatNumber(score.raw)} → normalized ${formatNumber(score.normalized)} × weight ${formatNumber(score.weight)}`}
    >
      <div className="h-1.5 w-14 overflow-hidden rounded-full bg-track" aria-hidden="true">
        <div
          className={cn('h-full rounded-full', negative ? 'bg-amber-500' : 'bg-accent')}
          style={{ width: `${(Math.abs(score.contribution) / max) * 100}%` }}
        />
      </div>
      <span className="w-10 text-right text-[12px] tabular">{formatNumber(score.contribution)}</span>
    </div>
  );
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? formatCount(n) : n.toFixed(1);
}

function HostNumbers({ host }: { host: HostTrace }) {
  const withNumbers = host.verdicts.filter((v) => v.numbers && Object.keys(v.numbers).length > 0);
  return (
    <div className="grid grid-cols-1 gap-4 text-[12px] lg:grid-cols-2">
      <div>
        <p className="mb-1.5 font-medium text-fg">Filters</p>
        {host.verdicts.length === 0 ? (
          <p className="text-muted">Every filter passed.</p>
        ) : (
          <ul className="flex flex-col gap-1">
            {host.verdicts.map((v) => (
              <li key={v.filter} className="flex flex-wrap items-baseline gap-x-2">
                <span className={cn('font-medium', v.ok ? 'text-fg' : 'text-danger')}>
                  {v.ok ? '✓' : '✗'} {pluginLabel(v.filter)}
                </span>
                {v.code ? <code className="font-mono text-[11px] text-muted">{v.code}</code> : null}
                {v.reason ? <span className="text-danger">{v.reason}</span> : null}
              </li>
            ))}
          </ul>
        )}
        {withNumbers.length > 0 ? (
          <dl className="mt-2 grid grid-cols-2 gap-x-4 gap-y-0.5 font-mono text-[11.5px] sm:grid-cols-3">
            {withNumbers.flatMap((v) =>
              Object.entries(v.numbers ?? {}).map(([key, value]) => (
                <div key={`${v.filter}.${key}`} className="flex justify-between gap-2">
                  <dt className="text-muted">{key}</dt>
                  <dd className="text-fg tabular">{formatNumber(value)}</dd>
                </div>
              )),
            )}
          </dl>
        ) : null}
      </div>
      <div>
        <p className="mb-1.5 font-medium text-fg">Scores</p>
        {host.scores.length === 0 ? (
          <p className="text-muted">Not scored: the host was rejected.</p>
        ) : (
          <table className="w-full text-left tabular">
            <thead className="text-muted">
              <tr>
                <th className="font-normal">Scorer</th>
                <th className="text-right font-normal">Raw</th>
                <th className="text-right font-normal">Normalized</th>
                <th className="text-right font-normal">Weight</th>
                <th className="text-right font-normal">Contribution</th>
              </tr>
            </thead>
            <tbody>
              {host.scores.map((s) => (
                <tr key={s.scorer}>
                  <td className="text-fg">{pluginLabel(s.scorer)}</td>
                  <td className="text-right">{formatNumber(s.raw)}</td>
                  <td className="text-right">{formatNumber(s.normalized)}</td>
                  <td className="text-right">{formatNumber(s.weight)}</td>
                  <td className="text-right font-medium text-fg">{formatNumber(s.contribution)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
