'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Gauge, RotateCcw, RotateCw } from 'lucide-react';
import { type RefObject, useEffect, useRef, useState } from 'react';
import { Figure, FiguresSkeleton, NetworkTable } from '@/components/metering/figures';
import { useSession } from '@/components/shell/session';
import { Button, Spinner } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Chips } from '@/components/ui/chips';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { cn } from '@/lib/cn';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatCount, formatDateTime, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs, RouterOutputs } from '@/trpc/types';

type Measurement = RouterOutputs['metering']['measureVm'];
type MeasureInput = RouterInputs['metering']['measureVm'];

const REFRESH_MS = 60_000;
const GIB_BYTES = 1024 ** 3;

const SPANS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
type Period = 'reset' | keyof typeof SPANS | 'custom';

const PERIOD_OPTIONS: { value: Period; label: string }[] = [
  { value: 'reset', label: 'Since reset' },
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 h' },
  { value: '7d', label: 'Last 7 days' },
  { value: 'custom', label: 'Custom' },
];

/**
 * Measure-VM for one VM: the Hyper-V resource-metering figures over a period
 * (by default since the last reset), refreshed every minute while on screen.
 * Reset-VMResourceMetering is offered to the roles the API allows it for.
 */
export function VmMeteringCard({ vmId, vmName, area }: { vmId: string; vmName: string; area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useSession();
  const canReset = area === 'portal' ? me.role === 'tenant-admin' : me.role === 'provider-admin';

  const cardRef = useRef<HTMLElement>(null);
  const visible = useOnScreen(cardRef);
  const [period, setPeriod] = useState<Period>('reset');
  const [anchor, setAnchor] = useState(() => Date.now());
  const [customFrom, setCustomFrom] = useState(() => toLocalInput(new Date(Date.now() - SPANS['24h'])));
  const [customTo, setCustomTo] = useState('');
  const [confirming, setConfirming] = useState(false);

  const custom = period === 'custom' ? customRange(customFrom, customTo) : null;
  const input: MeasureInput =
    period === 'reset'
      ? { id: vmId }
      : period === 'custom'
        ? { id: vmId, ...(custom?.from ? { from: custom.from } : {}), ...(custom?.to ? { to: custom.to } : {}) }
        : { id: vmId, from: new Date(anchor - SPANS[period]), to: new Date(anchor) };

  const measure = useQuery(
    trpc.metering.measureVm.queryOptions(input, {
      enabled: period !== 'custom' || custom?.error === undefined,
      placeholderData: keepPreviousData,
    }),
  );
  const { refetch } = measure;

  // Every minute while the tab is visible and the card on screen: rolling windows move on, the others refetch.
  useEffect(() => {
    if (!visible) return;
    const timer = setInterval(() => {
      if (period === '1h' || period === '24h' || period === '7d') setAnchor(Date.now());
      else void refetch();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [visible, period, refetch]);

  const reset = useMutation(
    trpc.metering.resetVm.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        setPeriod('reset');
        await queryClient.invalidateQueries(trpc.metering.measureVm.queryFilter());
      },
    }),
  );

  function choose(next: Period) {
    setAnchor(Date.now());
    setPeriod(next);
  }

  const data = measure.data;
  const stale = measure.isPlaceholderData;

  return (
    <section ref={cardRef} aria-labelledby="vm-metering-title" data-testid="vm-metering">
      <Card className="overflow-hidden">
        <CardHeader
          id="vm-metering-title"
          title="Resource metering"
          description={
            data && !stale ? (
              <>
                {formatDateTime(data.from)} – {formatDateTime(data.to)}
                {period === 'reset' ? ' · since the last reset' : null}
              </>
            ) : (
              'Usage reported by the host, as Measure-VM'
            )
          }
          actions={
            <>
              {measure.isFetching && data ? (
                <span role="status" aria-label="Refreshing" className="text-muted">
                  <Spinner />
                </span>
              ) : null}
              <Button
                size="sm"
                variant="ghost"
                icon={<RotateCw />}
                aria-label="Refresh metering"
                title="Refresh now"
                disabled={measure.isFetching || (period === 'custom' && custom?.error !== undefined)}
                onClick={() => {
                  if (period === '1h' || period === '24h' || period === '7d') setAnchor(Date.now());
                  else void refetch();
                }}
              />
              {canReset ? (
                <Button
                  size="sm"
                  icon={<RotateCcw />}
                  onClick={() => {
                    reset.reset();
                    setConfirming(true);
                  }}
                >
                  Reset
                </Button>
              ) : null}
            </>
          }
        />

        <div className="flex flex-wrap items-end gap-3 border-b border-border px-4 py-2.5">
          <Chips label="Metering period" options={PERIOD_OPTIONS} value={period} onChange={choose} />
          {period === 'custom' ? (
            <div className="flex flex-wrap items-start gap-3">
              <Field label="From" htmlFor="metering-from" className="w-56">
                <Input
                  id="metering-from"
                  type="datetime-local"
                  value={customFrom}
                  max={customTo || undefined}
                  onChange={(e) => setCustomFrom(e.target.value)}
                  className="h-7 w-56"
                />
              </Field>
              <Field
                label="To"
                htmlFor="metering-to"
                className="w-56"
                hint={customTo ? undefined : 'Empty means now'}
                error={custom?.error}
              >
                <Input
                  id="metering-to"
                  type="datetime-local"
                  value={customTo}
                  min={customFrom || undefined}
                  onChange={(e) => setCustomTo(e.target.value)}
                  aria-invalid={custom?.error ? true : undefined}
                  aria-describedby={custom?.error ? 'metering-to-error' : customTo ? undefined : 'metering-to-hint'}
                  className="h-7 w-56"
                />
              </Field>
            </div>
          ) : null}
        </div>

        {period === 'custom' && custom?.error !== undefined && !data ? (
          <p className="px-4 py-8 text-center text-[12.5px] text-muted">Choose a valid period to measure.</p>
        ) : measure.isPending ? (
          <FiguresSkeleton label="Loading metering" tableHeight="h-16" />
        ) : measure.isError && !data ? (
          <ErrorState
            error={measure.error}
            title="Could not measure this VM"
            onRetry={() => void refetch()}
            retrying={measure.isFetching}
            className="py-10"
          />
        ) : data ? (
          <div className={cn('transition-opacity', stale && 'opacity-60')} aria-busy={stale || undefined}>
            {measure.isError ? (
              <div className="px-4 pt-3">
                <InlineError>Could not refresh: {errorMessage(measure.error)}</InlineError>
              </div>
            ) : null}
            <MeasurementBody data={data} period={period} />
          </div>
        ) : null}

        <Dialog
          open={confirming}
          onClose={() => setConfirming(false)}
          title={`Reset metering for ${vmName}?`}
          description="A new metering window starts now: “Since reset” figures start again from zero."
          footer={
            <>
              <Button onClick={() => setConfirming(false)}>Cancel</Button>
              <Button variant="primary" loading={reset.isPending} onClick={() => reset.mutate({ id: vmId })}>
                Reset metering
              </Button>
            </>
          }
        >
          <div className="flex flex-col gap-3 text-[12.5px] text-muted">
            {reset.isError ? <InlineError>{errorMessage(reset.error)}</InlineError> : null}
            <p>
              History is kept: samples collected so far stay available for the other periods (last hour, last 24 h, last
              7 days and custom ranges). Only the starting point of the default view moves.
            </p>
          </div>
        </Dialog>
      </Card>
    </section>
  );
}

function MeasurementBody({ data, period }: { data: Measurement; period: Period }) {
  if (data.samples === 0) {
    return (
      <EmptyState
        icon={<Gauge />}
        title={period === 'reset' ? 'The host has not reported usage for this VM yet' : 'No usage in this period'}
        description={
          period === 'reset'
            ? 'Figures appear here once the host sends its first samples, usually within a few minutes of the VM running.'
            : 'The host reported no samples for this VM between these times. Try a longer period.'
        }
        className="py-10"
      />
    );
  }
  const network = (['internet', 'datacenter'] as const).map(
    (remoteAddress) =>
      data.network.find((n) => n.remoteAddress === remoteAddress) ?? {
        remoteAddress,
        inboundBytes: 0,
        outboundBytes: 0,
      },
  );
  return (
    <>
      <p className="px-4 pt-3 text-[12.5px] text-muted" data-testid="metering-coverage">
        Metered for <span className="font-medium text-fg tabular">{formatDuration(data.meteredSeconds)}</span> (
        <span className="tabular">
          {formatCount(data.samples)} sample{data.samples === 1 ? '' : 's'}
        </span>
        )
      </p>
      <dl className="grid grid-cols-2 gap-x-5 gap-y-4 p-4 sm:grid-cols-3 lg:grid-cols-4">
        <Figure label="Average CPU" value={formatCpu(data.avgCpuMhz)} />
        <Figure label="Average memory" value={formatMiB(data.avgMemoryMiB)} />
        <Figure label="Minimum memory" value={formatMiB(data.minMemoryMiB)} />
        <Figure label="Maximum memory" value={formatMiB(data.maxMemoryMiB)} />
        <Figure
          label="Total disk"
          value={formatBytes(data.totalDiskGiB * GIB_BYTES)}
          sub={`average ${formatBytes(data.avgDiskGiB * GIB_BYTES)}`}
        />
        <Figure label="Disk read" value={formatBytes(data.diskReadBytes)} />
        <Figure label="Disk written" value={formatBytes(data.diskWriteBytes)} />
      </dl>
      <div className="border-t border-border">
        <NetworkTable label="Network traffic by remote address" network={network} acls={data.networkAcls ?? []} />
      </div>
    </>
  );
}

/** True while the tab is visible and the element intersects the viewport. */
function useOnScreen(ref: RefObject<HTMLElement | null>): boolean {
  const [intersecting, setIntersecting] = useState(true);
  const [pageVisible, setPageVisible] = useState(true);
  useEffect(() => {
    const update = () => setPageVisible(document.visibilityState === 'visible');
    update();
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) setIntersecting(entry.isIntersecting);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return intersecting && pageVisible;
}

function customRange(fromValue: string, toValue: string): { from?: Date; to?: Date; error?: string } {
  const from = parseLocal(fromValue);
  const to = parseLocal(toValue);
  if (!from) return { error: 'Choose when the period starts' };
  if (to && to <= from) return { from, to, error: 'The period must end after it starts' };
  if (from.getTime() > Date.now()) return { from, to, error: 'The period cannot start in the future' };
  return { from, to };
}

function parseLocal(value: string): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A Date as the value of a datetime-local input, in local time. */
function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** "3 h 12 min", "2 d 4 h", "45 s". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** Average CPU in MHz, or GHz from 1,000 MHz. */
export function formatCpu(mhz: number): string {
  if (mhz >= 1000) return `${(mhz / 1000).toFixed(2)} GHz`;
  return `${formatCount(mhz)} MHz`;
}
