'use client';

import { useQuery } from '@tanstack/react-query';
import { Receipt } from 'lucide-react';
import { useMemo, useState } from 'react';
import { BillDownloads } from '@/components/chargeback/bill-downloads';
import { InvoiceLines } from '@/components/chargeback/invoice-lines';
import { Card, CardHeader } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

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

/**
 * One tenant's bill for a period, lines grouped per VM. `tenantId` is omitted
 * for a tenant admin (the API bills its own tenant).
 */
export function BillCard({ period, tenantId, title = 'Bill' }: { period: Period; tenantId?: string; title?: string }) {
  const trpc = useTRPC();
  const bill = useQuery(trpc.chargeback.bill.queryOptions(tenantId ? { tenantId, period } : { period }));

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
        <InvoiceLines invoice={bill.data} />
      )}
    </Card>
  );
}
