'use client';

import { useQuery } from '@tanstack/react-query';
import { Receipt } from 'lucide-react';
import { Fragment, useMemo, useState } from 'react';
import { BillDownloads } from '@/components/chargeback/bill-downloads';
import { Card, CardHeader } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Invoice = RouterOutputs['chargeback']['bill'];
type Line = Invoice['lines'][number];

export type PeriodKind = 'this-month' | 'last-month' | 'custom';

export interface Period {
  from: string;
  to: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The API wants whole-hour instants with no fraction ("2026-11-01T00:00:00Z"). */
function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * Periods are half-open [from, to) on whole UTC hours. "This month so far" ends
 * at the end of the current hour so the hour in progress is included.
 */
export function periodFor(kind: PeriodKind, custom: { from: string; to: string }, now = Date.now()): Period | null {
  const date = new Date(now);
  const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  if (kind === 'this-month') {
    return { from: instant(monthStart), to: instant(Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS) };
  }
  if (kind === 'last-month') {
    return { from: instant(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1)), to: instant(monthStart) };
  }
  const from = Date.parse(`${custom.from}T00:00:00Z`);
  const toDay = Date.parse(`${custom.to}T00:00:00Z`);
  if (Number.isNaN(from) || Number.isNaN(toDay) || toDay < from) return null;
  // The end date is inclusive in the picker: the period runs to the next midnight.
  return { from: instant(from), to: instant(toDay + DAY_MS) };
}

const PERIOD_OPTIONS: ChipOption<PeriodKind>[] = [
  { value: 'this-month', label: 'This month so far' },
  { value: 'last-month', label: 'Last month' },
  { value: 'custom', label: 'Custom (UTC)' },
];

/** The period chips and, for a custom period, two UTC dates (the end date included). */
export function usePeriodPicker() {
  const [kind, setKind] = useState<PeriodKind>('this-month');
  const [custom, setCustom] = useState(() => {
    const today = todayUtc();
    return { from: `${today.slice(0, 8)}01`, to: today };
  });
  const period = useMemo(() => periodFor(kind, custom), [kind, custom]);
  const customError = kind === 'custom' && !period ? 'Pick a start date and an end date on or after it.' : undefined;

  const picker = (
    <div className="flex flex-wrap items-end gap-3">
      <div className="flex flex-col gap-1.5">
        <span className="text-[12.5px] font-medium text-fg" id="bill-period-label">
          Period
        </span>
        <Chips label="Period" options={PERIOD_OPTIONS} value={kind} onChange={setKind} />
      </div>
      {kind === 'custom' ? (
        <>
          <Field label="From (UTC)" htmlFor="bill-from">
            <Input
              id="bill-from"
              type="date"
              className="w-40"
              value={custom.from}
              max={custom.to || undefined}
              onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))}
            />
          </Field>
          <Field label="To, inclusive (UTC)" htmlFor="bill-to">
            <Input
              id="bill-to"
              type="date"
              className="w-40"
              value={custom.to}
              min={custom.from || undefined}
              aria-invalid={customError ? true : undefined}
              aria-describedby={customError ? 'bill-period-error' : undefined}
              onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))}
            />
          </Field>
        </>
      ) : null}
      {customError ? (
        <p id="bill-period-error" className="w-full text-[12px] text-danger">
          {customError}
        </p>
      ) : null}
    </div>
  );
  return { period, picker };
}

const RESOURCE_LABELS: Record<string, string> = {
  vcpu: 'vCPU',
  memory: 'Memory',
  disk: 'Disk',
  'replica-storage': 'Replica storage',
  'network-out-internet': 'Network out · internet',
  'network-out-datacenter': 'Network out · datacenter',
  'network-in-internet': 'Network in · internet',
  'network-in-datacenter': 'Network in · datacenter',
};

export function resourceLabel(resource: string): string {
  return RESOURCE_LABELS[resource] ?? resource;
}

const quantityFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 4, maximumFractionDigits: 4 });

/** Quantities are shown to 4 decimals; money is never re-rounded (shown as the API gives it). */
function formatQuantity(quantity: string): string {
  const value = Number(quantity);
  return Number.isFinite(value) ? quantityFormat.format(value) : quantity;
}

function groupByVm(lines: Line[]): { vmId: string; vmName: string; lines: Line[] }[] {
  const groups = new Map<string, { vmId: string; vmName: string; lines: Line[] }>();
  for (const line of lines) {
    const group = groups.get(line.vmId) ?? { vmId: line.vmId, vmName: line.vmName, lines: [] };
    group.lines.push(line);
    groups.set(line.vmId, group);
  }
  return [...groups.values()];
}

/**
 * One tenant's bill for a period, lines grouped per VM. `tenantId` is omitted
 * for a tenant admin (the API bills its own tenant).
 */
export function BillCard({ period, tenantId, title = 'Bill' }: { period: Period; tenantId?: string; title?: string }) {
  const trpc = useTRPC();
  const bill = useQuery(trpc.chargeback.bill.queryOptions(tenantId ? { tenantId, period } : { period }));
  const groups = useMemo(() => groupByVm(bill.data?.lines ?? []), [bill.data]);

  return (
    <Card className="overflow-hidden">
      <CardHeader
        title={title}
        description={
          <>
            {formatDateTime(period.from)} – {formatDateTime(period.to)} UTC (end excluded)
            {bill.data ? ` · ${bill.data.currency}` : ''}
          </>
        }
        actions={<BillDownloads from={period.from} to={period.to} tenantId={tenantId} />}
      />
      {bill.data?.unpricedBefore ? (
        <p role="note" className="border-b border-border bg-accent-soft/50 px-4 py-2 text-[12.5px] text-muted">
          Usage before {formatDateTime(bill.data.unpricedBefore)} UTC is not charged: no rate card was in effect yet.
        </p>
      ) : null}
      {bill.isPending ? (
        <TableSkeleton rows={6} columns={5} />
      ) : bill.isError ? (
        <ErrorState
          error={bill.error}
          title="Could not load the bill"
          onRetry={() => void bill.refetch()}
          retrying={bill.isFetching}
        />
      ) : bill.data.lines.length === 0 ? (
        <EmptyState
          icon={<Receipt />}
          title="No usage in this period"
          description="No VM ran or held storage in this period, so there is nothing to bill. Try another period."
        />
      ) : (
        <>
          <Table aria-label="Bill lines">
            <THead>
              <TH>Resource</TH>
              <TH className="text-right">Quantity</TH>
              <TH className="text-right">Rate ({bill.data.currency})</TH>
              <TH className="text-right">Amount ({bill.data.currency})</TH>
              <TH>Rate card</TH>
            </THead>
            <tbody>
              {groups.map((group) => (
                <Fragment key={group.vmId}>
                  <tr className="border-b border-border bg-surface-2/60">
                    <th scope="colgroup" colSpan={5} className="h-8 px-4 text-left text-[12.5px] font-semibold text-fg">
                      {group.vmName || group.vmId}
                      <span className="ml-2 font-mono text-[11.5px] font-normal text-subtle">{group.vmId}</span>
                    </th>
                  </tr>
                  {group.lines.map((line) => (
                    <TR key={`${line.resource}-${line.cardEffectiveFrom}`}>
                      <TD className="pl-8 first:pl-8">{resourceLabel(line.resource)}</TD>
                      <TD className="tabular text-right">
                        {formatQuantity(line.quantity)} <span className="text-muted">{line.unit}</span>
                      </TD>
                      <TD className="tabular text-right">
                        {line.rate} <span className="text-muted">/ {line.unit}</span>
                      </TD>
                      <TD className="tabular text-right font-medium">{line.amount}</TD>
                      <TD className="text-muted">from {line.cardEffectiveFrom}</TD>
                    </TR>
                  ))}
                </Fragment>
              ))}
            </tbody>
          </Table>
          <dl className="ml-auto grid w-full max-w-xs grid-cols-[1fr_auto] gap-x-6 gap-y-1.5 border-t border-border px-4 py-3 text-[13px]">
            <dt className="text-muted">Subtotal</dt>
            <dd className="tabular text-right">
              {bill.data.subtotal} {bill.data.currency}
            </dd>
            <dt className="text-muted">Discount</dt>
            <dd className="tabular text-right">
              {bill.data.discount} {bill.data.currency}
            </dd>
            <dt className="font-semibold text-fg">Total</dt>
            <dd className="tabular text-right font-semibold text-fg">
              {bill.data.total} {bill.data.currency}
            </dd>
          </dl>
        </>
      )}
    </Card>
  );
}
