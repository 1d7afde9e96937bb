'use client';

import { useQuery } from '@tanstack/react-query';
import { Badge, type Tone } from '@/components/ui/badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { capacityWarnings } from './ha-capacity-warnings';
import { HaSettingsCard, useHaCluster } from './ha-settings-card';

const EVENT_TONE: Record<string, Tone> = {
  detected: 'amber',
  fencing: 'amber',
  restarting: 'amber',
  'waiting-capacity': 'red',
  recovered: 'green',
  cancelled: 'green',
  failed: 'red',
};
const RESTART_TONE: Record<string, Tone> = {
  running: 'green',
  restarting: 'amber',
  pending: 'amber',
  'waiting-capacity': 'red',
  failed: 'red',
};

const OPEN = new Set(['detected', 'fencing', 'restarting', 'waiting-capacity']);

/** HA across clusters: a banner when a cluster is degraded or cannot absorb a host loss, each failure event's timeline and RTO per VM. */
export function HaView() {
  const trpc = useTRPC();
  const events = useQuery({ ...trpc.ha.events.queryOptions({ limit: 20 }), refetchInterval: 2_000 });
  const health = useQuery({ ...trpc.placement.clusterHealth.queryOptions(), refetchInterval: 10_000 });
  const open = (events.data ?? []).filter((e) => OPEN.has(e.state));
  const selected = useHaCluster();
  const cannotAbsorb = capacityWarnings(health.data ?? [], selected);
  const waiting = (events.data ?? []).flatMap((e) =>
    e.restarts.filter((r) => r.state === 'waiting-capacity').map((r) => ({ ...r, hostName: e.hostName })),
  );
  return (
    <>
      <PageHeader title="High availability" description="Host failures, their recovery and RTO per VM" />
      {events.isError ? <ErrorState error={events.error} title="Could not read HA events" /> : null}
      <div className="grid grid-cols-1 gap-5">
        <HaSettingsCard picked={selected.picked} onPick={selected.setPicked} />
        {open.length || cannotAbsorb.length ? (
          <div
            role="alert"
            data-testid="ha-banner"
            className="rounded-md border border-red-300 bg-red-50 p-3 text-[13px]"
          >
            {open.map((e) => (
              <p key={e.id}>
                Degraded: {e.hostName} failed ({e.diagnosis}); recovery {e.state}.
              </p>
            ))}
            {cannotAbsorb.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        ) : null}
        {waiting.length ? (
          <Card>
            <CardHeader title="Waiting for capacity" description="HA VMs that fit nowhere yet; retried every round" />
            <CardBody>
              <ul data-testid="ha-waiting">
                {waiting.map((r) => (
                  <li key={`${r.eventId}-${r.vmId}`}>
                    {r.vmName} ({r.tenantName ?? 'no tenant'}, {r.priority}) from {r.hostName}: {r.reason}
                  </li>
                ))}
              </ul>
            </CardBody>
          </Card>
        ) : null}
        {(events.data ?? []).map((e) => {
          const rtos = e.restarts.filter((r) => r.rtoMs !== null).map((r) => r.rtoMs as number);
          return (
            <Card key={e.id} id={`ha-event-${e.id}`} data-testid="ha-event">
              <CardHeader
                title={`${e.hostName} — ${e.state}`}
                description={`Detected ${formatDateTime(e.detectedAt)} · ${e.diagnosis} · fencing by ${e.fenceMethod}${
                  rtos.length ? ` · worst RTO ${(Math.max(...rtos) / 1000).toFixed(1)} s` : ''
                }`}
              />
              <CardBody className="grid grid-cols-1 gap-4">
                <Badge tone={EVENT_TONE[e.state] ?? 'neutral'} dot className="justify-self-start">
                  {e.state}
                </Badge>
                <Table aria-label={`VMs of ${e.hostName}`}>
                  {/* THead is the header row itself: a TR inside it nested a row in the first cell. */}
                  <THead>
                    <TH>VM</TH>
                    <TH>Tenant</TH>
                    <TH>Priority</TH>
                    <TH>State</TH>
                    <TH>RTO</TH>
                    <TH>Note</TH>
                  </THead>
                  <tbody>
                    {e.restarts.map((r) => (
                      <TR key={r.vmId}>
                        <TD>{r.vmName}</TD>
                        <TD className="text-muted">{r.tenantName ?? '—'}</TD>
                        <TD>{r.priority}</TD>
                        <TD>
                          <Badge tone={RESTART_TONE[r.state] ?? 'neutral'}>{r.state}</Badge>
                        </TD>
                        <TD data-testid="ha-rto">{r.rtoMs === null ? '—' : `${(r.rtoMs / 1000).toFixed(1)} s`}</TD>
                        <TD>{r.reason}</TD>
                      </TR>
                    ))}
                  </tbody>
                </Table>
                <ol className="text-[12.5px] text-muted" data-testid="ha-timeline">
                  {e.timeline.map((t, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: a timeline is append-only
                    <li key={i}>
                      {formatDateTime(t.at)} · {t.kind}: {t.message}
                    </li>
                  ))}
                </ol>
              </CardBody>
            </Card>
          );
        })}
        {events.data && !events.data.length ? <p className="text-muted">No host failures yet.</p> : null}
      </div>
    </>
  );
}
