import { ArrowDown, ArrowUp, ChevronsUpDown } from 'lucide-react';
import type { HTMLAttributes, ReactNode, TdHTMLAttributes, ThHTMLAttributes } from 'react';
import { cn } from '@/lib/cn';

export function Table({ className, ...rest }: HTMLAttributes<HTMLTableElement>) {
  return (
    <div className="w-full overflow-x-auto">
      <table className={cn('w-full border-collapse text-[13px]', className)} {...rest} />
    </div>
  );
}

export function THead({ children }: { children: ReactNode }) {
  return (
    <thead className="sticky top-0 z-10 bg-surface-2/80 backdrop-blur">
      <tr className="border-b border-border">{children}</tr>
    </thead>
  );
}

export function TH({ className, ...rest }: ThHTMLAttributes<HTMLTableCellElement>) {
  return (
    <th
      scope="col"
      className={cn(
        'h-8 whitespace-nowrap px-3 text-left text-[11.5px] font-medium tracking-wide text-muted first:pl-4 last:pr-4',
        className,
      )}
      {...rest}
    />
  );
}

export type SortDir = 'asc' | 'desc';

/** A header whose sort control is a real button, with aria-sort on the cell. */
export function SortableTH<K extends string>({
  column,
  label,
  sort,
  dir,
  onSort,
  align = 'left',
  className,
}: {
  column: K;
  label: string;
  sort: K;
  dir: SortDir;
  onSort: (column: K) => void;
  align?: 'left' | 'right';
  className?: string;
}) {
  const active = sort === column;
  const Icon = active ? (dir === 'asc' ? ArrowUp : ArrowDown) : ChevronsUpDown;
  return (
    <TH aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'} className={className}>
      <button
        type="button"
        onClick={() => onSort(column)}
        className={cn(
          'group -mx-1.5 inline-flex items-center gap-1 rounded px-1.5 py-0.5 hover:bg-surface-hover hover:text-fg',
          active && 'text-fg',
          align === 'right' && 'flex-row-reverse',
        )}
      >
        {label}
        <Icon
          className={cn('size-3', active ? 'opacity-100' : 'opacity-40 group-hover:opacity-80')}
          aria-hidden="true"
        />
      </button>
    </TH>
  );
}

export function TR({ className, ...rest }: HTMLAttributes<HTMLTableRowElement>) {
  return (
    <tr
      className={cn('border-b border-border last:border-b-0 transition-colors hover:bg-surface-hover/70', className)}
      {...rest}
    />
  );
}

export function TD({ className, ...rest }: TdHTMLAttributes<HTMLTableCellElement>) {
  return <td className={cn('h-10 whitespace-nowrap px-3 first:pl-4 last:pr-4', className)} {...rest} />;
}
