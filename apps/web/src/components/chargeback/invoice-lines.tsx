'use client';

import { Fragment, useMemo } from 'react';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import type { RouterOutputs } from '@/trpc/types';

type Invoice = RouterOutputs['chargeback']['bill'];
type Line = Invoice['lines'][number];

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
  // A metered address class (metered port ACL): network-out:<class> / network-in:<class>.
  const acl = /^network-(out|in):(.+)$/.exec(resource);
  if (acl) return `Network ${acl[1]} · ${acl[2]} (metered ACL)`;
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

/** A bill's or a frozen invoice's lines grouped per VM, and its totals (money exactly as the API gives it). */
export function InvoiceLines({ invoice, label = 'Bill lines' }: { invoice: Invoice; label?: string }) {
  const groups = useMemo(() => groupByVm(invoice.lines), [invoice]);
  return (
    <>
      <Table aria-label={label}>
        <THead>
          <TH>Resource</TH>
          <TH className="text-right">Quantity</TH>
          <TH className="text-right">Rate ({invoice.currency})</TH>
          <TH className="text-right">Amount ({invoice.currency})</TH>
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
          {invoice.subtotal} {invoice.currency}
        </dd>
        <dt className="text-muted">Discount</dt>
        <dd className="tabular text-right">
          {invoice.discount} {invoice.currency}
        </dd>
        <dt className="font-semibold text-fg">Total</dt>
        <dd className="tabular text-right font-semibold text-fg">
          {invoice.total} {invoice.currency}
        </dd>
      </dl>
    </>
  );
}
