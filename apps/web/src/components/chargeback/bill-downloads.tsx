'use client';

import { BILLING_MAX_DAYS } from '@fabric/core/chargeback/bill-export.schema';
import { Download } from 'lucide-react';
import { useState } from 'react';
import { buttonClass } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';

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

const DAY_MS = 86_400_000;

/** The API's refusal as a sentence (its JSON error's message), or what happened. */
async function refusalOf(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
  if (body && typeof body.message === 'string') return body.message;
  return `The download failed (HTTP ${response.status})`;
}

/** The file name the API gave (Content-Disposition), else bill.<format>. */
function fileNameOf(response: Response, format: BillFormat): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : `bill.${format}`;
}

/**
 * Three download links (CSV, PDF, JSON) for one tenant's bill, or every
 * tenant's with `all`. A refused export (a period over BILLING_MAX_DAYS, one
 * not begun, a tenant created after it) is said beside the links: the
 * browser used to save the API's JSON error as bill.json without a word.
 */
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
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<BillFormat | null>(null);
  const days = Math.ceil((Date.parse(to) - Date.parse(from)) / DAY_MS);
  const tooLong = days > BILLING_MAX_DAYS;

  async function download(format: BillFormat, href: string) {
    setError(null);
    setBusy(format);
    try {
      const response = await fetch(href, { credentials: 'same-origin' });
      if (!response.ok) return setError(await refusalOf(response));
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = fileNameOf(response, format);
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch {
      setError('The download failed: the console could not reach the server');
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="flex flex-col items-end gap-1.5">
      <div className="flex flex-wrap items-center gap-2">
        {FORMATS.map(({ format, label }) => {
          const href = billExportHref(format, { from, to, tenantId, all });
          return (
            <a
              key={format}
              href={href}
              download
              aria-disabled={tooLong || undefined}
              onClick={(event) => {
                event.preventDefault();
                if (!tooLong && busy === null) void download(format, href);
              }}
              className={buttonClass('secondary', 'sm', tooLong ? 'pointer-events-none opacity-50' : undefined)}
              // "Download CSV of this bill" stays unique on a page that also offers all tenants' files.
              aria-label={all ? `Download all tenants as ${label}` : `Download ${label} of this bill`}
            >
              <Download aria-hidden="true" />
              {busy === format ? 'Preparing…' : label}
            </a>
          );
        })}
      </div>
      {tooLong ? (
        <InlineError>
          A bill covers at most {BILLING_MAX_DAYS} days; this period has {days.toLocaleString('en-US')}. Choose a
          shorter period to download it.
        </InlineError>
      ) : error ? (
        <InlineError>{error}</InlineError>
      ) : null}
    </div>
  );
}
