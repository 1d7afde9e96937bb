import { ChevronLeft, ChevronRight } from 'lucide-react';
import { formatCount } from '@/lib/format';
import { Button } from './button';

export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  noun = 'rows',
  pageSizes,
  onPageSize,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  noun?: string;
  pageSizes?: readonly number[];
  onPageSize?: (size: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav
      aria-label="Pagination"
      className="flex items-center justify-between gap-3 border-t border-border px-4 py-2.5 text-[12.5px] text-muted"
    >
      <p className="tabular">
        {total === 0 ? (
          `No ${noun}`
        ) : (
          <>
            <span className="text-fg">
              {formatCount(first)}–{formatCount(last)}
            </span>{' '}
            of <span className="text-fg">{formatCount(total)}</span> {noun}
          </>
        )}
      </p>
      <div className="flex items-center gap-2">
        {pageSizes && onPageSize ? (
          <span className="mr-2 inline-flex items-center gap-2">
            <label htmlFor="page-size" className="whitespace-nowrap">
              Rows per page
            </label>
            <select
              id="page-size"
              value={pageSize}
              onChange={(e) => onPageSize(Number(e.target.value))}
              className="h-7 rounded-md border border-border-strong bg-surface px-1.5 text-[12.5px] text-fg tabular"
            >
              {pageSizes.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </span>
        ) : null}
        <span className="tabular">
          Page {page} of {pages}
        </span>
        <Button size="sm" onClick={() => onPage(page - 1)} disabled={page <= 1} aria-label="Previous page">
          <ChevronLeft aria-hidden="true" />
        </Button>
        <Button size="sm" onClick={() => onPage(page + 1)} disabled={page >= pages} aria-label="Next page">
          <ChevronRight aria-hidden="true" />
        </Button>
      </div>
    </nav>
  );
}
