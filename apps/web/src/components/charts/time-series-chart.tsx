'use client';

import { useState } from 'react';
import { ChartFrame, TooltipBox } from './chart-frame';
import { axisTimeLabel, bucketLabel, niceTicks, seriesColor, type TimeBucket, timeTickIndexes } from './chart-scale';

export interface TimeSeries {
  label: string;
  values: number[];
}

const HEIGHT = 180;
const PAD = { top: 12, right: 12, bottom: 26, left: 64 };

/**
 * Lines over time (an area under the first when `area`): one value per
 * bucket, buckets of equal width. Values are formatted by `format` (units
 * included) on the axis, in the tooltip, the summary and the table.
 */
export function TimeSeriesChart({
  title,
  times,
  bucket,
  series,
  format,
  area = false,
  testId,
}: {
  title: string;
  times: Date[];
  bucket: TimeBucket;
  series: TimeSeries[];
  format: (value: number) => string;
  area?: boolean;
  testId?: string;
}) {
  const [active, setActive] = useState<number | null>(null);
  const n = times.length;
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const ticks = niceTicks(max);
  const top = ticks.at(-1) ?? 1;
  const spanMs = n > 1 ? (times[n - 1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0) : 0;

  const summary = `${title}, ${n} ${bucket === 'hour' ? 'hourly' : 'daily'} points from ${
    times[0] ? bucketLabel(times[0], bucket) : '—'
  } to ${times[n - 1] ? bucketLabel(times[n - 1] as Date, bucket) : '—'}. ${series
    .map((s) => {
      const peak = Math.max(0, ...s.values);
      const mean = s.values.length ? s.values.reduce((a, b) => a + b, 0) / s.values.length : 0;
      return `${s.label}: peak ${format(peak)}, average ${format(mean)}.`;
    })
    .join(' ')}`;

  const tooltip =
    active !== null && times[active] ? (
      <>
        <p className="font-medium text-fg">{bucketLabel(times[active] as Date, bucket)}</p>
        {series.map((s, i) => (
          <p key={s.label} className="flex items-center justify-between gap-3 text-muted">
            <span className="inline-flex items-center gap-1.5">
              <span
                aria-hidden="true"
                className="inline-block size-2 rounded-full"
                style={{ background: seriesColor(i) }}
              />
              {s.label}
            </span>
            <span className="tabular text-fg">{format(s.values[active] ?? 0)}</span>
          </p>
        ))}
      </>
    ) : null;

  return (
    <ChartFrame
      title={title}
      summary={summary}
      legend={series.map((s, i) => ({ label: s.label, color: seriesColor(i) }))}
      count={n}
      active={active}
      onActive={setActive}
      tooltip={tooltip}
      columns={[
        { label: bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)' },
        ...series.map((s) => ({ label: s.label, align: 'right' as const })),
      ]}
      rows={times.map((time, i) => [bucketLabel(time, bucket), ...series.map((s) => format(s.values[i] ?? 0))])}
      testId={testId}
    >
      {(width) => {
        const innerW = Math.max(1, width - PAD.left - PAD.right);
        const innerH = HEIGHT - PAD.top - PAD.bottom;
        const step = n > 1 ? innerW / (n - 1) : 0;
        const x = (i: number) => PAD.left + (n > 1 ? i * step : innerW / 2);
        const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
        const path = (values: number[]) =>
          values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
        const activeX = active !== null ? x(active) : 0;
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
                setActive(Math.min(n - 1, Math.max(0, n > 1 ? Math.round(px / step) : 0)));
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
              {timeTickIndexes(times, bucket, Math.max(2, Math.floor(innerW / 80))).map((i) => (
                <text
                  key={i}
                  x={x(i)}
                  y={HEIGHT - 8}
                  textAnchor={i === 0 && n > 1 ? 'start' : 'middle'}
                  fontSize={10.5}
                  fill="var(--muted)"
                >
                  {times[i] ? axisTimeLabel(times[i] as Date, bucket, spanMs) : ''}
                </text>
              ))}
              {series.map((s, i) => (
                <g key={s.label}>
                  {area && i === 0 && n > 1 ? (
                    <path
                      d={`${path(s.values)}L${x(n - 1).toFixed(1)},${y(0)}L${x(0).toFixed(1)},${y(0)}Z`}
                      fill={seriesColor(i)}
                      fillOpacity={0.14}
                    />
                  ) : null}
                  <path
                    d={path(s.values)}
                    fill="none"
                    stroke={seriesColor(i)}
                    strokeWidth={1.75}
                    strokeLinejoin="round"
                  />
                  {n === 1 ? <circle cx={x(0)} cy={y(s.values[0] ?? 0)} r={3} fill={seriesColor(i)} /> : null}
                </g>
              ))}
              {active !== null ? (
                <g>
                  <line x1={activeX} x2={activeX} y1={PAD.top} y2={PAD.top + innerH} stroke="var(--border-strong)" />
                  {series.map((s, i) => (
                    <circle
                      key={s.label}
                      cx={activeX}
                      cy={y(s.values[active] ?? 0)}
                      r={3.5}
                      fill="var(--surface)"
                      stroke={seriesColor(i)}
                      strokeWidth={2}
                    />
                  ))}
                </g>
              ) : null}
            </svg>
            {active !== null ? (
              <TooltipBox x={activeX} width={width}>
                {tooltip}
              </TooltipBox>
            ) : null}
          </>
        );
      }}
    </ChartFrame>
  );
}
