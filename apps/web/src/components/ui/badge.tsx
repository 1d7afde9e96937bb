import type { ReactNode } from 'react';
import { cn } from '@/lib/cn';

export type Tone = 'neutral' | 'green' | 'amber' | 'red' | 'blue' | 'violet';

const tones: Record<Tone, { badge: string; dot: string }> = {
  neutral: {
    badge: 'bg-surface-2 text-muted ring-border-strong',
    dot: 'bg-subtle',
  },
  green: {
    badge:
      'bg-emerald-50 text-emerald-700 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-400 dark:ring-emerald-400/25',
    dot: 'bg-emerald-500',
  },
  amber: {
    badge:
      'bg-amber-50 text-amber-800 ring-amber-600/25 dark:bg-amber-400/10 dark:text-amber-300 dark:ring-amber-400/25',
    dot: 'bg-amber-500',
  },
  red: {
    badge: 'bg-red-50 text-red-700 ring-red-600/20 dark:bg-red-500/10 dark:text-red-400 dark:ring-red-400/25',
    dot: 'bg-red-500',
  },
  blue: {
    badge: 'bg-sky-50 text-sky-700 ring-sky-600/20 dark:bg-sky-400/10 dark:text-sky-300 dark:ring-sky-400/25',
    dot: 'bg-sky-500',
  },
  violet: {
    badge:
      'bg-violet-50 text-violet-700 ring-violet-600/20 dark:bg-violet-400/10 dark:text-violet-300 dark:ring-violet-400/25',
    dot: 'bg-violet-500',
  },
};

export function Badge({
  tone = 'neutral',
  dot = false,
  pulse = false,
  children,
  className,
  title,
}: {
  tone?: Tone;
  dot?: boolean;
  pulse?: boolean;
  children: ReactNode;
  className?: string;
  title?: string;
}) {
  const t = tones[tone];
  return (
    <span
      title={title}
      className={cn(
        'inline-flex h-5 items-center gap-1.5 whitespace-nowrap rounded-full px-2 text-[11.5px] font-medium ring-1 ring-inset',
        t.badge,
        className,
      )}
    >
      {dot ? (
        <span aria-hidden="true" className="relative flex size-1.5">
          {pulse ? (
            <span className={cn('absolute inline-flex size-full animate-ping rounded-full opacity-60', t.dot)} />
          ) : null}
          <span className={cn('relative inline-flex size-1.5 rounded-full', t.dot)} />
        </span>
      ) : null}
      {children}
    </span>
  );
}

export function toneDotClass(tone: Tone): string {
  return tones[tone].dot;
}
