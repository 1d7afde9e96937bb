import type { ReactNode } from 'react';
import { Skeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatBytes } from '@/lib/format';

/** One measured figure in a `<dl>` grid: a label, the value, an optional line under it. */
export function Figure({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return (
    <div>
      <dt className="text-[12px] text-muted">{label}</dt>
      <dd className="mt-0.5 text-[15px] font-semibold tracking-[-0.01em] tabular">{value}</dd>
      {sub ? <dd className="text-[11.5px] text-muted tabular">{sub}</dd> : null}
    </div>
  );
}

/** The loading shape of a figures grid and the table under it. */
export function FiguresSkeleton({ label, tableHeight }: { label: string; tableHeight: 'h-16' | 'h-24' }) {
  return (
    <div role="status" aria-label={label} className="p-4">
      <Skeleton className="h-3.5 w-56" />
      <div className="mt-4 grid grid-cols-2 gap-x-5 gap-y-4 sm:grid-cols-3 lg:grid-cols-4">
        {[1, 2, 3, 4, 5, 6, 7].map((k) => (
          <div key={k}>
            <Skeleton className="h-3 w-20" />
            <Skeleton className="mt-1.5 h-4 w-16" />
          </div>
        ))}
      </div>
      <Skeleton className={`mt-5 ${tableHeight} w-full rounded-md`} />
    </div>
  );
}

const REMOTE_LABEL: Record<'internet' | 'datacenter', { label: string; help: string }> = {
  internet: { label: 'Internet', help: 'Traffic to and from addresses outside the datacenter' },
  datacenter: { label: 'Datacenter', help: 'Traffic to and from addresses inside the datacenter' },
};

/**
 * Measured network traffic: one row per address class, then one per metered
 * port ACL (provider-defined classes, whose bytes are also in the rows above).
 */
export function NetworkTable({
  label,
  network,
  acls,
}: {
  label: string;
  network: { remoteAddress: 'internet' | 'datacenter'; inboundBytes: number; outboundBytes: number }[];
  acls: { acl: string; inboundBytes: number; outboundBytes: number }[];
}) {
  return (
    <Table aria-label={label}>
      <THead>
        <TH>Remote address</TH>
        <TH className="text-right">Inbound</TH>
        <TH className="text-right">Outbound</TH>
      </THead>
      <tbody>
        {network.map((n) => (
          <TR key={n.remoteAddress}>
            <TD>
              <span title={REMOTE_LABEL[n.remoteAddress].help}>{REMOTE_LABEL[n.remoteAddress].label}</span>
            </TD>
            <TD className="text-right tabular">{formatBytes(n.inboundBytes)}</TD>
            <TD className="text-right tabular">{formatBytes(n.outboundBytes)}</TD>
          </TR>
        ))}
        {acls.map((a) => (
          <TR key={`acl-${a.acl}`}>
            <TD>
              <span title="A metered port ACL: traffic to and from this provider-defined address class">{a.acl}</span>{' '}
              <span className="text-[11.5px] text-muted">metered ACL (also counted above)</span>
            </TD>
            <TD className="text-right tabular">{formatBytes(a.inboundBytes)}</TD>
            <TD className="text-right tabular">{formatBytes(a.outboundBytes)}</TD>
          </TR>
        ))}
      </tbody>
    </Table>
  );
}
