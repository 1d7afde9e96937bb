'use client';

import { type ReactNode, useState } from 'react';
import { ChartFrame, TooltipBox } from './chart-frame';
import { axisTimeLabel, bucketLabel, niceTicks, seriesColor, type TimeBucket, timeTickIndexes } from './chart-scale';

export interface BarStack {
  label: string;
  /** One value per bucket, ≥ 0. */
  values: number[];
}

const HEIGHT = 200;
const PAD = { top: 12, right: 12, bottom: 26, left: 64 };

/**
 * Stacked bars over time (cost per resource per day or month). `totals` are
 * the buckets' own totals as text (exact decimals from the API), shown in
 * the tooltip and the table; the bar heights use the parts.
 */
export function StackedBarChart({
  title,
  times,
  bucket,
  stacks,
  totals,
  format,
  footer,
  testId,
}: {
  title: string;
  times: Date[];
  bucket: TimeBucket;
  stacks: BarStack[];
  totals: string[];
  format: (value: number) => string;
  footer?: ReactNode;
  testId?: string;
}) {
  const [active, setActive] = useState<number | null>(null);
  const n = times.length;
  const sums = times.map((_, i) => stacks.reduce((acc, s) => acc + (s.values[i] ?? 0), 0));
  const ticks = niceTicks(Math.max(0, ...sums));
  const top = ticks.at(-1) ?? 1;
  const spanMs = n > 1 ? (times[n - 1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0) : 0;
  const peak = sums.reduce((best, v, i) => (v > (sums[best] ?? 0) ? i : best), 0);
  const summary = `${title}, ${n} ${bucket === 'month' ? 'months' : 'days'} from ${
    times[0] ? bucketLabel(times[0], bucket) : '—'
  } to ${times[n - 1] ? bucketLabel(times[n - 1] as Date, bucket) : '—'}. Highest: ${
    times[peak] ? `${bucketLabel(times[peak] as Date, bucket)}, ${totals[peak] ?? ''}` : '—'
  }. Stacked by ${stacks.map((s) => s.label).join(', ') || 'nothing'}.`;

  const tooltip =
    active !== null && times[active] ? (
      <>
        <p className="font-medium text-fg">{bucketLabel(times[active] as Date, bucket)}</p>
        {stacks
          .map((s, i) => ({ s, i }))
          .filter(({ s }) => (s.values[active] ?? 0) > 0)
          .map(({ s, i }) => (
            <p key={s.label} className="flex items-center justify-between gap-3 text-muted">
              <span className="inline-flex items-center gap-1.5">
                <span
                  aria-hidden="true"
                  className="inline-block size-2 rounded-sm"
                  style={{ background: seriesColor(i) }}
                />
                {s.label}
              </span>
              <span className="tabular text-fg">{format(s.values[active] ?? 0)}</span>
            </p>
          ))}
        <p className="mt-1 flex justify-between gap-3 border-t border-border pt-1 font-medium text-fg">
          <span>Total</span>
          <span className="tabular">{totals[active]}</span>
        </p>
      </>
    ) : null;

  return (
    <ChartFrame
      title={title}
      summary={summary}
      legend={stacks.map((s, i) => ({ label: s.label, color: seriesColor(i) }))}
      count={n}
      active={active}
      onActive={setActive}
      tooltip={tooltip}
      columns={[
        { label: bucket === 'month' ? 'Month (UTC)' : 'Day (UTC)' },
        ...stacks.map((s) => ({ label: s.label, align: 'right' as const })),
        { label: 'Total', align: 'right' },
      ]}
      rows={times.map((time, i) => [
        bucketLabel(time, bucket),
        ...stacks.map((s) => format(s.values[i] ?? 0)),
        totals[i] ?? '',
      ])}
      footer={footer}
      testId={testId}
    >
      {(width) => {
        const innerW = Math.max(1, width - PAD.left - PAD.right);
        const innerH = HEIGHT - PAD.top - PAD.bottom;
        const slot = n ? innerW / n : innerW;
        const barW = Math.max(1, Math.min(40, slot * 0.7));
        const x = (i: number) => PAD.left + i * slot + (slot - barW) / 2;
        const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
        return (
          <>
            <svg
              role="img"
              aria-label={summary}
              width={width}
              height={HEIGHT}
              className="block select-none"
              onMouseMove={(event) => {
                if (n === 0) return;
                const box = event.currentTarget.getBoundingClientRect();
                const px = event.clientX - box.left - PAD.left;
                setActive(Math.min(n - 1, Math.max(0, Math.floor(px / slot))));
              }}
            >
              {ticks.map((tick) => (
                <g key={tick}>
                  <line
                    x1={PAD.left}
                    x2={width - PAD.right}
                    y1={y(tick)}
                    y2={y(tick)}
                    stroke="var(--border)"
                    strokeDasharray={tick ? '3 3' : undefined}
                  />
                  <text
                    x={PAD.left - 6}
                    y={y(tick)}
                    dy="0.32em"
                    textAnchor="end"
                    fontSize={10.5}
                    fill="var(--muted)"
                    className="tabular"
                  >
                    {format(tick)}
                  </text>
                </g>
              ))}
              {active !== null ? (
                <rect
                  x={PAD.left + active * slot}
                  y={PAD.top}
                  width={slot}
                  height={innerH}
                  fill="var(--surface-hover)"
                />
              ) : null}
              {times.map((time, i) => {
                let base = 0;
                return (
                  <g key={time.getTime()}>
                    {stacks.map((s, k) => {
                      const v = s.values[i] ?? 0;
                      if (v <= 0) return null;
                      const y0 = y(base);
                      base += v;
                      const y1 = y(base);
                      return (
                        <rect
                          key={s.label}
                          x={x(i)}
                          y={y1}
                          width={barW}
                          height={Math.max(0.5, y0 - y1)}
                          fill={seriesColor(k)}
                        />
                      );
                    })}
                  </g>
                );
              })}
              {timeTickIndexes(times, bucket, Math.max(2, Math.floor(innerW / 80))).map((i) => (
                <text
                  key={i}
                  x={x(i) + barW / 2}
                  y={HEIGHT - 8}
                  textAnchor="middle"
                  fontSize={10.5}
                  fill="var(--muted)"
                >
                  {times[i] ? axisTimeLabel(times[i] as Date, bucket, spanMs) : ''}
                </text>
              ))}
            </svg>
            {active !== null ? (
              <TooltipBox x={x(active) + barW} width={width}>
                {tooltip}
              </TooltipBox>
            ) : null}
          </>
        );
      }}
    </ChartFrame>
  );
}
