'use client';

import { formatDateTime, formatMbps } from '@/lib/format';
import type { RouterOutputs } from '@/trpc/types';

type Port = RouterOutputs['network']['vmPorts'][number];

/** Rates as people read them: 0 is 0 (not "—"), small rates keep a decimal, large ones read in Gbps. */
function rate(mbps: number): string {
  if (mbps <= 0) return '0 Mbps';
  if (mbps < 10) return `${mbps.toFixed(1)} Mbps`;
  return formatMbps(mbps);
}

const HELD_BY = {
  demand: 'everything it offered got through',
  maximum: 'held at its maximum by the switch',
  share: "held to its share of the host's NIC: other VMs want it too",
} as const;

/**
 * QoS as the host's switch enforced it in the latest sample: what the guest
 * offered, what it achieved (both directions), and the port's floor, weight
 * and cap. The bar is drawn to the largest of them, with ticks at the minimum
 * and the maximum, so "pushed below its minimum" or "above its maximum" would
 * show at a glance.
 */
export function PortBandwidth({ port }: { port: Port }) {
  const { qos, bandwidth } = port;
  const settings = [
    qos?.minimumMbps ? `minimum ${formatMbps(qos.minimumMbps)} guaranteed` : null,
    qos?.weight ? `weight ${qos.weight}` : null,
    qos?.maximumMbps ? `maximum ${formatMbps(qos.maximumMbps)}` : null,
  ].filter((s): s is string => s !== null);
  const scale = Math.max(bandwidth?.offeredMbps ?? 0, bandwidth?.achievedMbps ?? 0, qos?.maximumMbps ?? 0, 1) * 1.05;
  const at = (mbps: number) => `${Math.min(100, (mbps / scale) * 100)}%`;
  return (
    <section aria-label={`Bandwidth of ${port.nicName}`} className="flex flex-col gap-2" data-testid="port-bandwidth">
      <h3 className="text-[12.5px] font-semibold">Bandwidth</h3>
      <p className="text-[12px] text-muted">
        {settings.length > 0
          ? `QoS on this port: ${settings.join(' · ')}.`
          : 'No QoS on this port: it shares the host NIC equally.'}{' '}
        The host's switch shares each NIC fairly: every port gets at least its minimum (or its weight's share), and what
        one port leaves unused goes to the others.
      </p>
      {bandwidth ? (
        <>
          <div
            className="relative h-3 w-full overflow-hidden rounded bg-surface-2"
            role="img"
            aria-label={`Achieved ${rate(bandwidth.achievedMbps)} of ${rate(bandwidth.offeredMbps)} offered`}
          >
            {/* A few pixels at least for any rate above 0: 1.5 Mbps on a 2 Gb/s scale would not show at all. */}
            <div
              className="absolute inset-y-0 left-0 bg-border"
              style={{ width: at(bandwidth.offeredMbps), minWidth: bandwidth.offeredMbps > 0 ? 3 : 0 }}
            />
            <div
              className="absolute inset-y-0 left-0 bg-accent"
              style={{ width: at(bandwidth.achievedMbps), minWidth: bandwidth.achievedMbps > 0 ? 3 : 0 }}
            />
            {qos?.minimumMbps ? (
              <div className="absolute inset-y-0 w-0.5 bg-fg" style={{ left: at(qos.minimumMbps) }} title="minimum" />
            ) : null}
            {qos?.maximumMbps ? (
              <div
                className="absolute inset-y-0 w-0.5 bg-danger"
                style={{ left: at(qos.maximumMbps) }}
                title="maximum"
              />
            ) : null}
          </div>
          <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-[12.5px]">
            <dt className="text-muted">Achieved</dt>
            <dd className="tabular" data-testid="achieved">
              {rate(bandwidth.achievedMbps)} — {HELD_BY[bandwidth.limitedBy]}
            </dd>
            <dt className="text-muted">Offered</dt>
            <dd className="tabular">{rate(bandwidth.offeredMbps)}</dd>
            <dt className="text-muted">Marks</dt>
            <dd>the dark tick is the minimum, the red one the maximum; grey is offered, blue achieved</dd>
            <dt className="text-muted">Sampled</dt>
            <dd className="tabular">{formatDateTime(bandwidth.at)}</dd>
          </dl>
        </>
      ) : (
        <p className="text-[12.5px] text-muted">
          No sample yet: the host reports what this port achieved every metering interval while the VM runs.
        </p>
      )}
    </section>
  );
}
