'use client';

import { type KeyboardEvent, type ReactNode, type RefObject, useEffect, useId, useRef, useState } from 'react';
import { cn } from '@/lib/cn';

/** The container's width in CSS pixels, following resizes. */
export function useWidth(ref: RefObject<HTMLElement | null>, fallback = 640): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth || fallback);
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) setWidth(Math.max(240, Math.floor(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, fallback]);
  return width;
}

export interface LegendItem {
  label: string;
  color: string;
}

export interface TableColumn {
  label: string;
  align?: 'left' | 'right';
}

/**
 * What every chart shares: a title, a legend, the SVG as one image with a
 * summary for screen readers, keyboard navigation between points (arrow
 * keys, Home, End) with the tooltip announced, and the same data as a table
 * behind a disclosure.
 */
export function ChartFrame({
  title,
  summary,
  legend,
  count,
  active,
  onActive,
  tooltip,
  columns,
  rows,
  children,
  footer,
  testId,
}: {
  title: string;
  summary: string;
  legend: LegendItem[];
  count: number;
  active: number | null;
  onActive: (index: number | null) => void;
  tooltip: ReactNode;
  columns: TableColumn[];
  rows: ReactNode[][];
  children: (width: number) => ReactNode;
  footer?: ReactNode;
  testId?: string;
}) {
  const boxRef = useRef<HTMLDivElement>(null);
  const width = useWidth(boxRef);
  const titleId = useId();
  const helpId = useId();

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (count === 0) return;
    const current = active ?? -1;
    const next =
      event.key === 'ArrowRight'
        ? Math.min(count - 1, current + 1)
        : event.key === 'ArrowLeft'
          ? Math.max(0, current < 0 ? count - 1 : current - 1)
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? count - 1
              : event.key === 'Escape'
                ? null
                : undefined;
    if (next === undefined) return;
    event.preventDefault();
    onActive(next);
  }

  return (
    <figure className="flex min-w-0 flex-col gap-2" data-testid={testId}>
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <figcaption id={titleId} className="text-[12.5px] font-semibold text-fg">
          {title}
        </figcaption>
        {legend.length > 1 ? (
          <ul className="flex flex-wrap gap-x-3 gap-y-1 text-[11.5px] text-muted" aria-label="Legend">
            {legend.map((item) => (
              <li key={item.label} className="inline-flex items-center gap-1.5">
                <span
                  aria-hidden="true"
                  className="inline-block size-2.5 rounded-sm"
                  style={{ background: item.color }}
                />
                {item.label}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move between points; the points are read out in the live region below */}
      <div
        ref={boxRef}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: one tab stop; the chart is explored with the arrow keys
        tabIndex={0}
        aria-describedby={helpId}
        onKeyDown={onKeyDown}
        onBlur={() => onActive(null)}
        onMouseLeave={() => onActive(null)}
        className="relative rounded-md focus-visible:outline-2 focus-visible:outline-ring"
      >
        <p id={helpId} className="sr-only">
          {summary} Use the left and right arrow keys to read each point.
        </p>
        {children(width)}
        <div aria-live="polite" className="sr-only">
          {active !== null ? tooltip : null}
        </div>
      </div>
      <details className="group text-[12px]">
        <summary className="cursor-pointer select-none text-muted hover:text-fg">Show the data as a table</summary>
        <div className="mt-2 max-h-72 overflow-auto rounded-md border border-border">
          <table className="w-full text-[12px]">
            <caption className="sr-only">{title}</caption>
            <thead className="sticky top-0 bg-surface-2 text-muted">
              <tr>
                {columns.map((c) => (
                  <th
                    key={c.label}
                    scope="col"
                    className={cn('px-3 py-1.5 font-medium', c.align === 'right' ? 'text-right' : 'text-left')}
                  >
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, r) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are the buckets in order
                <tr key={r} className="border-t border-border">
                  {row.map((cell, i) => (
                    <td
                      // biome-ignore lint/suspicious/noArrayIndexKey: cells follow the columns
                      key={i}
                      className={cn('px-3 py-1 tabular', columns[i]?.align === 'right' ? 'text-right' : 'text-left')}
                    >
                      {cell}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
      {footer}
    </figure>
  );
}

/** The floating tooltip box, placed beside the active point and kept inside the chart. */
export function TooltipBox({ x, width, children }: { x: number; width: number; children: ReactNode }) {
  const boxWidth = 200;
  const left = Math.min(Math.max(0, x + 12), Math.max(0, width - boxWidth));
  return (
    <div
      aria-hidden="true"
      className="pointer-events-none absolute top-1 z-10 rounded-md border border-border bg-surface px-2.5 py-2 text-[11.5px] shadow-md"
      style={{ left, width: boxWidth }}
    >
      {children}
    </div>
  );
}
