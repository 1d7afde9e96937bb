'use client';

import type { ReactNode } from 'react';
import { cn } from '@/lib/cn';

export interface ChipOption<V extends string> {
  value: V;
  label: string;
  icon?: ReactNode;
  count?: number;
}

/** Single-choice filter chips (a radio group announced as such). */
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
  return (
    <div role="radiogroup" aria-label={label} className="inline-flex flex-wrap items-center gap-1">
      {options.map((option) => {
        const selected = option.value === value;
        return (
          // biome-ignore lint/a11y/useSemanticElements: styled chips; role radio keeps them one tab stop each and buttons
          <button
            key={option.value}
            type="button"
            role="radio"
            aria-checked={selected}
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
