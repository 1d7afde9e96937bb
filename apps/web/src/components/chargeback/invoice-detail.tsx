'use client';

import { useQuery } from '@tanstack/react-query';
import { ArrowLeft, Download, FileText } from 'lucide-react';
import Link from 'next/link';
import { InvoiceLines, resourceLabel } from '@/components/chargeback/invoice-lines';
import { Badge } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

export type InvoiceSummary = RouterOutputs['chargeback']['invoices'][number];

/** "2026-10" → "October 2026" (UTC months). */
export function monthLabel(month: string): string {
  return new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-US', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** A signed money difference, "+1.23" / "−0.40" / "0.00". */
export function signedAmount(amount: string): string {
  if (/^-/.test(amount)) return `−${amount.slice(1)}`;
  return /^0(\.0+)?$/.test(amount) ? amount : `+${amount}`;
}

/**
 * Latest versions of invoices: number and version, month, (tenant), total and
 * the adjustment the version made. `hrefBase` is where one invoice opens.
 */
export function InvoiceTable({
  invoices,
  hrefBase,
  showTenant,
  label,
}: {
  invoices: InvoiceSummary[];
  hrefBase: string;
  showTenant: boolean;
  label: string;
}) {
  return (
    <Table aria-label={label}>
      <THead>
        <TH>Invoice</TH>
        <TH>Month</TH>
        {showTenant ? <TH>Tenant</TH> : null}
        <TH className="text-right">Lines</TH>
        <TH className="text-right">Total</TH>
        <TH className="text-right">Last adjustment</TH>
        <TH>Issued</TH>
      </THead>
      <tbody>
        {invoices.map((invoice) => (
          <TR key={invoice.id}>
            <TD>
              <Link href={`${hrefBase}/${invoice.id}`} className="font-medium text-accent hover:underline">
                {invoice.number}
              </Link>
              <Badge tone={invoice.version > 1 ? 'amber' : 'neutral'} className="ml-2">
                v{invoice.version}
              </Badge>
            </TD>
            <TD>{monthLabel(invoice.month)}</TD>
            {showTenant ? <TD>{invoice.tenantName}</TD> : null}
            <TD className="tabular text-right">{invoice.lineCount}</TD>
            <TD className="tabular text-right font-medium">
              {invoice.total} {invoice.currency}
            </TD>
            <TD className={cn('tabular text-right', invoice.version > 1 ? 'text-fg' : 'text-muted')}>
              {invoice.version > 1 ? signedAmount(invoice.adjustment) : '—'}
            </TD>
            <TD className="text-muted">{formatDateTime(invoice.createdAt)}</TD>
          </TR>
        ))}
      </tbody>
    </Table>
  );
}

/**
 * One frozen invoice version: what was billed, why this version exists, what
 * changed since the previous one, and every version of it.
 */
export function InvoiceDetail({ id, backHref, hrefBase }: { id: string; backHref: string; hrefBase: string }) {
  const trpc = useTRPC();
  const invoice = useQuery(trpc.chargeback.invoice.queryOptions({ id }));

  if (invoice.isPending) {
    return (
      <Card>
        <TableSkeleton rows={8} columns={5} />
      </Card>
    );
  }
  if (invoice.isError) {
    return (
      <Card>
        <ErrorState
          error={invoice.error}
          title="Could not load the invoice"
          onRetry={() => void invoice.refetch()}
          retrying={invoice.isFetching}
        />
      </Card>
    );
  }
  const data = invoice.data;
  const superseded = data.version < data.latestVersion;
  const latest = data.versions.find((v) => v.version === data.latestVersion);

  return (
    <>
      <PageHeader
        title={`Invoice ${data.number} · v${data.version}`}
        description={`${data.tenantName} · ${monthLabel(data.month)} (UTC) · ${data.currency}`}
        actions={
          <Link href={backHref} className={buttonClass('ghost')}>
            <ArrowLeft aria-hidden /> All invoices
          </Link>
        }
      />
      <div className="flex flex-col gap-4">
        {superseded && latest ? (
          <div
            role="status"
            className="rounded-md border border-amber-600/30 bg-amber-50 px-4 py-2.5 text-[13px] text-amber-900 dark:border-amber-400/25 dark:bg-amber-400/10 dark:text-amber-200"
          >
            This version was replaced by{' '}
            <Link href={`${hrefBase}/${latest.id}`} className="font-medium text-accent hover:underline">
              version {latest.version}
            </Link>{' '}
            ({latest.reason}). It is kept as it was issued.
          </div>
        ) : null}
        <Card>
          <CardBody className="grid grid-cols-2 gap-x-8 gap-y-3 text-[13px] sm:grid-cols-4">
            <Fact label="Status">
              <Badge tone="green">Closed · frozen</Badge>
            </Fact>
            <Fact label="Total">
              <span className="tabular text-[15px] font-semibold">
                {data.total} {data.currency}
              </span>
            </Fact>
            <Fact label={data.version > 1 ? `Adjustment vs v${data.version - 1}` : 'Adjustment'}>
              <span className="tabular">{data.version > 1 ? signedAmount(data.adjustment) : '—'}</span>
            </Fact>
            <Fact label="Issued">
              {formatDateTime(data.createdAt)} by {data.createdBy}
            </Fact>
            <Fact label="Reason" wide>
              {data.reason}
            </Fact>
            <Fact label="Download" wide>
              <InvoiceDownloads id={data.id} />
            </Fact>
          </CardBody>
        </Card>

        <Card className="overflow-hidden">
          <CardHeader title="Versions" description="Each version is frozen; a re-rating adds one and changes none." />
          <nav aria-label="Invoice versions" className="flex flex-wrap gap-2 px-4 py-3">
            {data.versions.map((v) => (
              <Link
                key={v.id}
                href={`${hrefBase}/${v.id}`}
                aria-current={v.id === data.id ? 'page' : undefined}
                className={cn(
                  'rounded-md border px-3 py-1.5 text-[12.5px]',
                  v.id === data.id
                    ? 'border-accent bg-accent/10 font-semibold text-fg'
                    : 'border-border text-muted hover:bg-surface-hover hover:text-fg',
                )}
              >
                v{v.version} · {v.total} {v.currency}
                {v.version > 1 ? ` (${signedAmount(v.adjustment)})` : ''}
              </Link>
            ))}
          </nav>
        </Card>

        {data.version > 1 ? (
          <Card className="overflow-hidden">
            <CardHeader
              title={`What changed since v${data.version - 1}`}
              description="Lines whose quantity or amount differ; the sum of the differences is the adjustment."
            />
            {data.changes.length === 0 ? (
              <EmptyState
                icon={<FileText />}
                title="No line changed"
                description="Only the discount or the totals changed."
              />
            ) : (
              <Table aria-label="Changes since the previous version">
                <THead>
                  <TH>VM</TH>
                  <TH>Resource</TH>
                  <TH className="text-right">Before</TH>
                  <TH className="text-right">After</TH>
                  <TH className="text-right">Difference</TH>
                </THead>
                <tbody>
                  {data.changes.map((change) => (
                    <TR key={`${change.vmId}-${change.resource}-${change.cardEffectiveFrom}`}>
                      <TD>{change.vmName || change.vmId}</TD>
                      <TD>{resourceLabel(change.resource)}</TD>
                      <TD className="tabular text-right">{change.amountBefore}</TD>
                      <TD className="tabular text-right">{change.amountAfter}</TD>
                      <TD className="tabular text-right font-medium">{signedAmount(change.delta)}</TD>
                    </TR>
                  ))}
                </tbody>
              </Table>
            )}
          </Card>
        ) : null}

        <Card className="overflow-hidden">
          <CardHeader
            title="Lines"
            description={`${data.lineCount} lines, each rounded once; totals are exact sums.`}
          />
          {data.invoice.lines.length === 0 ? (
            <EmptyState
              icon={<FileText />}
              title="Nothing was billed"
              description="No VM of this tenant ran or held storage in this month."
            />
          ) : (
            <InvoiceLines invoice={data.invoice} label="Invoice lines" />
          )}
        </Card>
      </div>
    </>
  );
}

/** This version as CSV, PDF or JSON: the frozen document, not a new rating. */
function InvoiceDownloads({ id }: { id: string }) {
  return (
    <span className="flex flex-wrap gap-2">
      {(['csv', 'pdf', 'json'] as const).map((format) => (
        <a
          key={format}
          href={`/api/exports/invoice.${format}?id=${encodeURIComponent(id)}`}
          download
          className={buttonClass('secondary', 'sm')}
          aria-label={`Download this invoice as ${format.toUpperCase()}`}
        >
          <Download aria-hidden="true" />
          {format.toUpperCase()}
        </a>
      ))}
    </span>
  );
}

function Fact({ label, children, wide }: { label: string; children: React.ReactNode; wide?: boolean }) {
  return (
    <div className={cn('flex flex-col gap-1', wide && 'col-span-2')}>
      <span className="text-[11.5px] font-medium uppercase tracking-wide text-subtle">{label}</span>
      <span className="text-fg">{children}</span>
    </div>
  );
}
