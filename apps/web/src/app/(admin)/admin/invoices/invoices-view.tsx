'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CalendarCheck, FileText, ListChecks, Lock, RefreshCw, SearchCheck } from 'lucide-react';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { InvoiceTable, monthLabel, signedAmount } from '@/components/chargeback/invoice-detail';
import { LiveBadge } from '@/components/tasks/live-badge';
import { isActive, taskHref } from '@/components/tasks/task-labels';
import { useLiveTasks } from '@/components/tasks/use-live-tasks';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { ProgressBar } from '@/components/vms/task-progress';
import { cn } from '@/lib/cn';
import { errorMessage } from '@/lib/errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Period = RouterOutputs['chargeback']['periods'][number];

// How often a month being closed is read again when the live stream says nothing.
const CLOSING_POLL_MS = 3_000;

export function InvoicesView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const periods = useQuery({
    ...trpc.chargeback.periods.queryOptions(),
    // A month being closed (by another user, or resumed after a restart) turns closed on its own.
    refetchInterval: (query) => (query.state.data?.some((p) => p.status === 'closing') ? CLOSING_POLL_MS : false),
  });
  // A close's progress and its end arrive as task changes: the periods (and the month's invoices) follow them.
  const live = useLiveTasks(() => {
    void queryClient.invalidateQueries(trpc.chargeback.periods.queryFilter());
  });
  // A link from a close task (`?month=2026-11`) opens that month's invoices.
  const linked = useSearchParams().get('month');
  const [selected, setSelected] = useState<string | null>(linked);
  const [closing, setClosing] = useState<Period | null>(null);
  const month = selected ?? periods.data?.find((p) => p.status === 'closed')?.month ?? null;
  const current = periods.data?.find((p) => p.month === month) ?? null;

  return (
    <>
      <PageHeader
        title="Invoices"
        description="Months are open while usage comes in; closing one freezes every tenant's invoice. Months are UTC."
        actions={periods.data?.some((p) => p.status === 'closing') ? <LiveBadge status={live} /> : undefined}
      />
      <div className="flex flex-col gap-6">
        <Card className="overflow-hidden">
          <CardHeader title="Billing periods" description="A month can close once it is over." />
          {periods.isPending ? (
            <TableSkeleton rows={3} columns={5} />
          ) : periods.isError ? (
            <ErrorState
              error={periods.error}
              title="Could not load the periods"
              onRetry={() => void periods.refetch()}
              retrying={periods.isFetching}
            />
          ) : (
            <Table aria-label="Billing periods">
              <THead>
                <TH>Month</TH>
                <TH>Status</TH>
                <TH className="text-right">Invoices</TH>
                <TH className="text-right">Total</TH>
                <TH>Closed</TH>
                <TH className="text-right">Actions</TH>
              </THead>
              <tbody>
                {periods.data.map((period) => (
                  <TR key={period.month} className={cn(period.month === month && 'bg-accent-soft/40')}>
                    <TD className="font-medium">{monthLabel(period.month)}</TD>
                    <TD>
                      {period.status === 'closed' ? (
                        <Badge tone="green">Closed</Badge>
                      ) : period.status === 'closing' ? (
                        <div className="flex flex-col gap-1">
                          <Badge tone="violet" dot pulse>
                            Closing…
                          </Badge>
                          {period.taskId ? <CloseProgress taskId={period.taskId} month={period.month} /> : null}
                        </div>
                      ) : period.closable ? (
                        <Badge tone="amber">Ready to close</Badge>
                      ) : (
                        <Badge tone="blue">Open</Badge>
                      )}
                    </TD>
                    <TD className="tabular text-right">{period.status === 'closed' ? period.invoiceCount : '—'}</TD>
                    <TD className="tabular text-right">
                      {period.total !== null ? `${period.total} ${period.currency ?? ''}` : '—'}
                    </TD>
                    <TD className="text-muted">
                      {period.closedAt ? `${formatDateTime(period.closedAt)} by ${period.closedBy}` : '—'}
                      {period.status === 'closed' && period.taskId ? (
                        <>
                          {' · '}
                          <TaskLink taskId={period.taskId} month={period.month} />
                        </>
                      ) : null}
                    </TD>
                    <TD className="text-right">
                      {period.status === 'closed' ? (
                        <Button
                          size="sm"
                          variant="ghost"
                          onClick={() => setSelected(period.month)}
                          aria-label={`Show invoices of ${monthLabel(period.month)}`}
                        >
                          <FileText aria-hidden /> Invoices
                        </Button>
                      ) : period.closable ? (
                        <Button size="sm" variant="primary" onClick={() => setClosing(period)}>
                          <Lock aria-hidden /> Close {monthLabel(period.month)}
                        </Button>
                      ) : period.status === 'closing' ? (
                        period.taskId ? (
                          <Link
                            href={taskHref(period.taskId, 'admin')}
                            className={buttonClass('ghost', 'sm')}
                            aria-label={`View the task closing ${monthLabel(period.month)}`}
                          >
                            <ListChecks aria-hidden /> View task
                          </Link>
                        ) : (
                          <span className="text-[12px] text-muted">Invoices are being written</span>
                        )
                      ) : (
                        <span className="text-[12px] text-muted">Live bill until the month ends</span>
                      )}
                    </TD>
                  </TR>
                ))}
              </tbody>
            </Table>
          )}
        </Card>

        {current && current.status === 'closed' ? (
          <MonthInvoices key={current.month} period={current} />
        ) : periods.data && !periods.data.some((p) => p.status === 'closed') ? (
          <Card>
            <EmptyState
              icon={<CalendarCheck />}
              title="No month is closed yet"
              description="When a month is over, close it here: each tenant gets a frozen invoice you can download and send."
            />
          </Card>
        ) : null}
      </div>
      <CloseDialog
        period={closing}
        onClose={() => setClosing(null)}
        onClosed={(m) => {
          setClosing(null);
          setSelected(m);
        }}
      />
    </>
  );
}

function CloseDialog({
  period,
  onClose,
  onClosed,
}: {
  period: Period | null;
  onClose: () => void;
  onClosed: (month: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const close = useMutation(
    trpc.chargeback.closePeriod.mutationOptions({
      onSuccess: async (closed) => {
        await queryClient.invalidateQueries(trpc.chargeback.periods.queryFilter());
        await queryClient.invalidateQueries(trpc.chargeback.invoices.queryFilter());
        close.reset();
        onClosed(closed.month);
      },
    }),
  );
  return (
    <Dialog
      open={period !== null}
      onClose={() => {
        close.reset();
        onClose();
      }}
      title={period ? `Close ${monthLabel(period.month)}?` : 'Close month'}
      description="Every tenant's bill for the month is rated from the rollups and frozen as version 1 of its invoice. Samples that arrive later do not change it: they show up in a review, and a re-rating adds a version."
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            {close.isPending ? 'Continue in the background' : 'Cancel'}
          </Button>
          <Button
            variant="primary"
            disabled={close.isPending || period === null}
            onClick={() => period && close.mutate({ month: period.month })}
          >
            <Lock aria-hidden /> {close.isPending ? 'Closing…' : 'Close month'}
          </Button>
        </>
      }
    >
      {close.isPending && period ? <PendingClose month={period.month} /> : null}
      {close.isError ? <InlineError>{errorMessage(close.error)}</InlineError> : null}
    </Dialog>
  );
}

function MonthInvoices({ period }: { period: Period }) {
  const trpc = useTRPC();
  const invoices = useQuery(trpc.chargeback.invoices.queryOptions({ month: period.month }));
  const [reviewing, setReviewing] = useState(false);

  return (
    <section aria-labelledby="month-invoices" className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="month-invoices" className="text-[15px] font-semibold text-fg">
          {monthLabel(period.month)}
        </h2>
        <Button variant="secondary" onClick={() => setReviewing(true)} disabled={reviewing}>
          <SearchCheck aria-hidden /> Check for late usage
        </Button>
      </div>
      {reviewing ? <ReviewCard month={period.month} onDone={() => setReviewing(false)} /> : null}
      <Card className="overflow-hidden">
        <CardHeader
          title="Invoices"
          description="The latest version of each tenant's invoice. Open one for its lines, versions and downloads."
        />
        {invoices.isPending ? (
          <TableSkeleton rows={4} columns={7} />
        ) : invoices.isError ? (
          <ErrorState
            error={invoices.error}
            title="Could not load the invoices"
            onRetry={() => void invoices.refetch()}
            retrying={invoices.isFetching}
          />
        ) : invoices.data.length === 0 ? (
          <EmptyState icon={<FileText />} title="No invoices" description="No tenant existed when this month closed." />
        ) : (
          <InvoiceTable
            invoices={invoices.data}
            hrefBase="/admin/invoices"
            showTenant
            label={`Invoices of ${monthLabel(period.month)}`}
          />
        )}
      </Card>
    </section>
  );
}

/** Rates the closed month again without writing; offers to issue new versions for the bills that changed. */
function ReviewCard({ month, onDone }: { month: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const review = useQuery({ ...trpc.chargeback.reviewPeriod.queryOptions({ month }), staleTime: 0 });
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const rerate = useMutation(
    trpc.chargeback.rerate.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.chargeback.invoices.queryFilter());
        await queryClient.invalidateQueries(trpc.chargeback.periods.queryFilter());
        await review.refetch();
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (reason.trim().length < 3) {
      setReasonError('Say why in at least 3 characters; it is shown on the new versions.');
      return;
    }
    setReasonError(null);
    rerate.mutate({ month, reason: reason.trim() });
  }

  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Late usage review"
        description="The month rated again from today's rollups, compared with the frozen invoices. Nothing is written until you re-rate."
        actions={
          <Button size="sm" variant="ghost" onClick={onDone}>
            Done
          </Button>
        }
      />
      {review.isPending ? (
        <TableSkeleton rows={2} columns={4} />
      ) : review.isError ? (
        <ErrorState
          error={review.error}
          title="Could not review the month"
          onRetry={() => void review.refetch()}
          retrying={review.isFetching}
        />
      ) : review.data.changed.length === 0 ? (
        <CardBody className="text-[13px] text-fg">
          {rerate.data && rerate.data.length > 0
            ? `Issued ${rerate.data.length} new ${rerate.data.length === 1 ? 'version' : 'versions'}. Every invoice now matches its usage.`
            : `All ${review.data.unchanged} invoices match the usage recorded for the month.`}
        </CardBody>
      ) : (
        <>
          <Table aria-label="Invoices that would change">
            <THead>
              <TH>Tenant</TH>
              <TH className="text-right">Frozen total</TH>
              <TH className="text-right">Total today</TH>
              <TH className="text-right">Difference</TH>
            </THead>
            <tbody>
              {review.data.changed.map((row) => (
                <TR key={row.tenantId}>
                  <TD>
                    {row.tenantName}
                    {row.version === null ? <span className="ml-2 text-muted">(no invoice yet)</span> : null}
                  </TD>
                  <TD className="tabular text-right">{row.frozenTotal}</TD>
                  <TD className="tabular text-right">{row.currentTotal}</TD>
                  <TD className="tabular text-right font-medium">
                    {signedAmount(row.difference)} {review.data.currency}
                  </TD>
                </TR>
              ))}
            </tbody>
          </Table>
          <form onSubmit={submit} className="flex flex-wrap items-end gap-3 border-t border-border px-4 py-3">
            <Field label="Reason for the new versions" htmlFor="rerate-reason" error={reasonError ?? undefined}>
              <Input
                className="w-80"
                value={reason}
                maxLength={200}
                placeholder="Late samples from hv-07"
                {...describedBy('rerate-reason', reasonError ?? undefined)}
                onChange={(e) => setReason(e.target.value)}
              />
            </Field>
            <Button type="submit" variant="primary" disabled={rerate.isPending}>
              <RefreshCw aria-hidden /> {rerate.isPending ? 'Re-rating…' : `Re-rate ${review.data.changed.length}`}
            </Button>
            {rerate.isError ? <InlineError>{errorMessage(rerate.error)}</InlineError> : null}
          </form>
        </>
      )}
    </Card>
  );
}

/**
 * While the close request waits for the task (up to the API's wait), its
 * progress: the month's active close task, read every second.
 */
function PendingClose({ month }: { month: string }) {
  const trpc = useTRPC();
  const task = useQuery({
    ...trpc.tasks.list.queryOptions({ kind: 'billing.close-month', targetId: month, state: 'active', pageSize: 1 }),
    refetchInterval: 1_000,
  });
  const running = task.data?.rows[0] ?? null;
  return (
    <div className="flex flex-col gap-1.5" data-testid="close-progress">
      <div className="flex items-baseline justify-between gap-3 text-[12.5px]">
        <span className="text-muted">{running?.message || 'Starting the close…'}</span>
        {running ? <span className="text-muted tabular">{running.progress}%</span> : null}
      </div>
      <ProgressBar value={running ? running.progress : null} label={`Closing ${monthLabel(month)}`} />
      {running ? (
        <Link
          href={taskHref(running.id, 'admin')}
          className="self-start rounded text-[12.5px] text-accent hover:underline"
        >
          View task
        </Link>
      ) : null}
    </div>
  );
}

/** A month's close task as a small progress bar in its row, live while it runs. */
function CloseProgress({ taskId, month }: { taskId: string; month: string }) {
  const trpc = useTRPC();
  const task = useQuery({
    ...trpc.tasks.get.queryOptions({ id: taskId }),
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.state) ? false : CLOSING_POLL_MS),
  });
  const progress = task.data?.progress ?? null;
  return (
    <div className="flex w-32 items-center gap-1.5" title={task.data?.message}>
      <ProgressBar value={progress} label={`Closing ${monthLabel(month)}`} className="h-1" />
      {progress !== null ? <span className="text-[10.5px] text-muted tabular">{progress}%</span> : null}
    </div>
  );
}

/** The task that closed a month, for its steps and times. */
function TaskLink({ taskId, month }: { taskId: string; month: string }) {
  return (
    <Link
      href={taskHref(taskId, 'admin')}
      className="rounded text-accent hover:underline"
      aria-label={`View the task that closed ${monthLabel(month)}`}
    >
      View task
    </Link>
  );
}
