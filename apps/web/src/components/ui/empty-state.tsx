import type { ReactNode } from 'react';
import { cn } from '@/lib/cn';

export function EmptyState({
  icon,
  title,
  description,
  action,
  className,
}: {
  icon?: ReactNode;
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  className?: string;
}) {
  return (
    <div className={cn('flex flex-col items-center justify-center px-6 py-14 text-center', className)}>
      {icon ? (
        <div className="mb-3 flex size-10 items-center justify-center rounded-lg border border-border bg-surface-2 text-muted [&_svg]:size-5">
          {icon}
        </div>
      ) : null}
      <p className="text-[13.5px] font-semibold text-fg">{title}</p>
      {description ? <p className="mt-1 max-w-sm text-[12.5px] text-muted">{description}</p> : null}
      {action ? <div className="mt-4">{action}</div> : null}
    </div>
  );
}
