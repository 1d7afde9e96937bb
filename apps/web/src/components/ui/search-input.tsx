'use client';

import { Search, X } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { cn } from '@/lib/cn';

/** A search box that reports its value after the user pauses typing; "/" focuses it. */
export function SearchInput({
  value,
  onChange,
  label,
  placeholder,
  className,
  delayMs = 250,
  maxLength,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  /** The API's limit for this search (core's schema constant): a longer search would be refused as an error. */
  maxLength: number;
  placeholder?: string;
  className?: string;
  delayMs?: number;
}) {
  const [draft, setDraft] = useState(value);
  const ref = useRef<HTMLInputElement>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  // Follow outside changes (Back button, "Clear filters").
  useEffect(() => setDraft(value), [value]);

  useEffect(() => {
    if (draft === value) return;
    const t = setTimeout(() => onChangeRef.current(draft), delayMs);
    return () => clearTimeout(t);
  }, [draft, value, delayMs]);

  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      const target = event.target as HTMLElement | null;
      const typing =
        target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
      if (event.key === '/' && !typing) {
        event.preventDefault();
        ref.current?.focus();
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className={cn('relative', className)}>
      <Search
        className="pointer-events-none absolute top-1/2 left-2.5 size-3.5 -translate-y-1/2 text-subtle"
        aria-hidden="true"
      />
      <input
        ref={ref}
        type="search"
        aria-label={label}
        placeholder={placeholder}
        value={draft}
        maxLength={maxLength}
        onChange={(e) => setDraft(e.target.value.slice(0, maxLength))}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onChangeRef.current(draft);
          if (e.key === 'Escape' && draft) {
            e.preventDefault();
            setDraft('');
            onChangeRef.current('');
          }
        }}
        className="h-8 w-full rounded-md border border-border-strong bg-surface pr-14 pl-8 text-[13px] text-fg shadow-xs placeholder:text-subtle focus:border-ring focus:ring-2 focus:ring-ring/25 focus:outline-none [&::-webkit-search-cancel-button]:hidden"
      />
      {draft ? (
        <button
          type="button"
          aria-label="Clear search"
          onClick={() => {
            setDraft('');
            onChangeRef.current('');
            ref.current?.focus();
          }}
          className="absolute top-1/2 right-1.5 -translate-y-1/2 rounded p-1 text-subtle hover:text-fg"
        >
          <X className="size-3.5" aria-hidden="true" />
        </button>
      ) : (
        <kbd className="pointer-events-none absolute top-1/2 right-2 -translate-y-1/2 rounded border border-border px-1.5 font-mono text-[10.5px] text-subtle">
          /
        </kbd>
      )}
    </div>
  );
}
