'use client';

import type { KeyboardEvent, ReactNode } from 'react';
import { cn } from '@/lib/cn';

export interface ChipOption<V extends string> {
  value: V;
  label: string;
  icon?: ReactNode;
  count?: number;
}

/** The ARIA radio group's keys: arrows move (and choose) with wrap-around, Home and End go to the ends. */
const STEP: Record<string, (index: number, count: number) => number> = {
  ArrowRight: (i, n) => (i + 1) % n,
  ArrowDown: (i, n) => (i + 1) % n,
  ArrowLeft: (i, n) => (i - 1 + n) % n,
  ArrowUp: (i, n) => (i - 1 + n) % n,
  Home: () => 0,
  End: (_, n) => n - 1,
};

/**
 * Single-choice filter chips (a radio group announced as such): one tab stop,
 * the chosen chip; arrow keys move the choice, as in any radio group.
 */
export function Chips<V extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: ChipOption<V>[];
  value: V;
  onChange: (value: V) => void;
}) {
  const current = Math.max(
    0,
    options.findIndex((o) => o.value === value),
  );
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const step = STEP[event.key];
    if (!step || options.length === 0) return;
    event.preventDefault();
    const next = options[step(current, options.length)];
    if (!next) return;
    onChange(next.value);
    const buttons = event.currentTarget.querySelectorAll<HTMLButtonElement>('[role="radio"]');
    buttons[options.indexOf(next)]?.focus();
  }
  return (
    <div
      role="radiogroup"
      aria-label={label}
      className="inline-flex flex-wrap items-center gap-1"
      onKeyDown={onKeyDown}
    >
      {options.map((option, index) => {
        const selected = option.value === value;
        return (
          // biome-ignore lint/a11y/useSemanticElements: styled chips; role radio with a roving tab stop, as buttons
          <button
            key={option.value}
            type="button"
            role="radio"
            aria-checked={selected}
            tabIndex={index === current ? 0 : -1}
            onClick={() => onChange(option.value)}
            className={cn(
              'inline-flex h-7 items-center gap-1.5 rounded-full border px-2.5 text-[12.5px] font-medium transition-colors',
              selected
                ? 'border-fg/80 bg-fg text-bg'
                : 'border-border-strong bg-surface text-muted hover:bg-surface-hover hover:text-fg',
            )}
          >
            {option.icon}
            {option.label}
            {option.count !== undefined ? (
              <span className={cn('tabular text-[11.5px]', selected ? 'text-bg/70' : 'text-subtle')}>
                {option.count}
              </span>
            ) : null}
          </button>
        );
      })}
    </div>
  );
}
