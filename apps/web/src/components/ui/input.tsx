import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import { cn } from '@/lib/cn';

const control =
  'rounded-md border border-border-strong bg-surface px-2.5 text-[13px] text-fg shadow-xs ' +
  'placeholder:text-subtle transition-colors ' +
  'focus:border-ring focus:outline-none focus-visible:outline-none focus:ring-2 focus:ring-ring/25 ' +
  'disabled:opacity-60 aria-invalid:border-danger aria-invalid:focus:ring-danger/20';

// Full width unless the caller sets a width (no class-merging library needed for this one case).
function width(className: string | undefined): string {
  return className && /(^|\s)w-/.test(className) ? '' : 'w-full';
}

export function Input({ className, ...rest }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={cn(control, 'h-8', width(className), className)} {...rest} />;
}

export function Textarea({ className, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={cn(control, 'min-h-16 py-1.5', width(className), className)} {...rest} />;
}

export function Select({ className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select className={cn(control, 'h-8 appearance-auto pr-7', width(className), className)} {...rest}>
      {children}
    </select>
  );
}

interface FieldProps {
  label: string;
  htmlFor: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactNode;
  className?: string;
}

/** A label, its control, and a hint or error linked by id (`<id>-error`, `<id>-hint`). */
export function Field({ label, htmlFor, hint, error, children, className }: FieldProps) {
  return (
    <div className={cn('flex flex-col gap-1.5', className)}>
      <label htmlFor={htmlFor} className="text-[12.5px] font-medium text-fg">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${htmlFor}-error`} className="text-[12px] text-danger">
          {error}
        </p>
      ) : hint ? (
        <p id={`${htmlFor}-hint`} className="text-[12px] text-muted">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** aria props for a control inside `Field`, so the error is announced with it. */
export function describedBy(id: string, error: string | undefined, hasHint = false) {
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-error` : hasHint ? `${id}-hint` : undefined,
  } as const;
}
