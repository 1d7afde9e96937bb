'use client';

import { AlertTriangle, RotateCw } from 'lucide-react';
import { cn } from '@/lib/cn';
import { errorMessage } from '@/lib/errors';
import { Button } from './button';

export function ErrorState({
  error,
  title = 'Could not load this',
  onRetry,
  retrying = false,
  className,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
  retrying?: boolean;
  className?: string;
}) {
  return (
    <div role="alert" className={cn('flex flex-col items-center justify-center px-6 py-12 text-center', className)}>
      <div className="mb-3 flex size-10 items-center justify-center rounded-lg bg-danger-soft text-danger">
        <AlertTriangle className="size-5" aria-hidden="true" />
      </div>
      <p className="text-[13.5px] font-semibold text-fg">{title}</p>
      <p className="mt-1 max-w-md text-[12.5px] text-muted">{errorMessage(error)}</p>
      {onRetry ? (
        <Button className="mt-4" size="sm" onClick={onRetry} loading={retrying} icon={<RotateCw />}>
          Retry
        </Button>
      ) : null}
    </div>
  );
}

/** A one-line error for forms and dialogs. */
export function InlineError({ children }: { children: React.ReactNode }) {
  return (
    <div
      role="alert"
      className="flex items-start gap-2 rounded-md border border-danger/30 bg-danger-soft px-3 py-2 text-[12.5px] text-danger"
    >
      <AlertTriangle className="mt-px size-3.5 shrink-0" aria-hidden="true" />
      <span>{children}</span>
    </div>
  );
}
