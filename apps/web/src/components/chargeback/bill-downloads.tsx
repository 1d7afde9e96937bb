import { Download } from 'lucide-react';
import { buttonClass } from '@/components/ui/button';

export type BillFormat = 'csv' | 'pdf' | 'json';

const FORMATS: { format: BillFormat; label: string }[] = [
  { format: 'csv', label: 'CSV' },
  { format: 'pdf', label: 'PDF' },
  { format: 'json', label: 'JSON' },
];

/**
 * The export URL (served by the API, same origin through the rewrite). A tenant
 * admin omits `tenantId`: the API bills its own tenant whatever it names.
 */
export function billExportHref(
  format: BillFormat,
  { from, to, tenantId, all }: { from: string; to: string; tenantId?: string; all?: boolean },
): string {
  const params = new URLSearchParams();
  if (all) params.set('all', '1');
  else if (tenantId) params.set('tenantId', tenantId);
  params.set('from', from);
  params.set('to', to);
  return `/api/exports/bill.${format}?${params.toString()}`;
}

/** Three download links (CSV, PDF, JSON) for one tenant's bill, or every tenant's with `all`. */
export function BillDownloads({
  tenantId,
  all = false,
  from,
  to,
}: {
  tenantId?: string;
  all?: boolean;
  from: string;
  to: string;
}) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      {FORMATS.map(({ format, label }) => (
        <a
          key={format}
          href={billExportHref(format, { from, to, tenantId, all })}
          download
          className={buttonClass('secondary', 'sm')}
          // "Download CSV of this bill" stays unique on a page that also offers all tenants' files.
          aria-label={all ? `Download all tenants as ${label}` : `Download ${label} of this bill`}
        >
          <Download aria-hidden="true" />
          {label}
        </a>
      ))}
    </div>
  );
}
