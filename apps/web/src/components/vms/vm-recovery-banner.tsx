'use client';

import type { VmHaRecovery } from '@fabric/core/compute/vm.schema';
import { useQuery } from '@tanstack/react-query';
import { AlertTriangle, RotateCw } from 'lucide-react';
import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';
import { RelativeTime } from '@/components/ui/relative-time';
import { useTRPC } from '@/trpc/client';

/**
 * Is this VM coming back after its host failed (ha.vmRecovery)? "<host> failed: it restarts elsewhere once
 * that host is fenced" first, "Waiting for capacity after <host> failed: <reason>" while no host has room for
 * it, "Restarting on <host>" while it starts there; nothing otherwise.
 * The admin links to the failure event and its recovery task; the portal names no host (tenants never see
 * where a VM runs) and has no link (the recovery is the provider's).
 */
export function VmRecoveryBanner({ vmId, area }: { vmId: string; area: 'portal' | 'admin' }) {
  const r = useVmRecovery(vmId).data;
  if (!r) return null;
  const waiting = r.state === 'waiting-capacity';
  const failed = r.failedHostName ?? 'its host';
  const title =
    r.state === 'fencing'
      ? `${r.failedHostName ?? 'Its host'} failed: it restarts elsewhere once that host is fenced`
      : waiting
        ? `Waiting for capacity after ${failed} failed`
        : `Restarting on ${r.toHostName ?? 'another host'}`;
  const Icon = r.state === 'restarting' ? RotateCw : AlertTriangle;
  return (
    <div
      role="status"
      data-testid="vm-ha-recovery"
      className={`mb-5 flex flex-wrap items-center justify-between gap-3 rounded-lg border px-4 py-3 text-[13px] ${
        waiting
          ? 'border-red-300 bg-red-50 dark:border-red-400/30 dark:bg-red-500/10'
          : 'border-amber-300 bg-amber-50 dark:border-amber-400/30 dark:bg-amber-400/10'
      }`}
    >
      <div className="flex min-w-0 items-start gap-3">
        <Icon className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
        <div className="min-w-0">
          <p className="font-medium text-fg">
            {title}
            {waiting && r.reason ? `: ${r.reason}` : ''}
          </p>
          <p className="mt-0.5 text-muted">
            {r.state === 'fencing'
              ? `${r.reason.charAt(0).toUpperCase()}${r.reason.slice(1)}.`
              : waiting
                ? 'High availability restarts it, highest priority first, as soon as a host has room.'
                : `High availability restarts it after ${failed} failed.`}{' '}
            Failure detected <RelativeTime value={r.since} />.
          </p>
        </div>
      </div>
      {area === 'admin' ? (
        <div className="flex gap-2">
          <Link href={`/admin/ha#ha-event-${r.eventId}`} className={buttonClass('secondary', 'sm')}>
            HA event
          </Link>
          {r.jobId ? (
            <Link href={`/admin/tasks/${r.jobId}`} className={buttonClass('secondary', 'sm')}>
              Recovery task
            </Link>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** ha.vmRecovery, polled faster while the VM is being brought back (one query shared by the page's parts). */
function useVmRecovery(vmId: string) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.ha.vmRecovery.queryOptions({ vmId }),
    refetchInterval: (q) => (q.state.data ? 2_000 : 10_000),
  });
}

/**
 * Where HA's restart of the VM stands, for its state badge: the banner's answer once it has one (polled),
 * else what the VM's own answer said.
 */
export function useVmHaRecovery(vmId: string, fromVm: VmHaRecovery | undefined): VmHaRecovery | undefined {
  const recovery = useVmRecovery(vmId);
  if (!recovery.isSuccess) return fromVm;
  const state = recovery.data?.state;
  return state === undefined ? undefined : state === 'fencing' ? 'host-failed' : state;
}
