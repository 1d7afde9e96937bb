'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2 } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { errorMessage } from '@/lib/errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

/**
 * Host failure drill (docs/high-availability.md, "Trying it: a host failure drill"). Only where the hosts are
 * simulated (npm start, the browser tests): the API answers null elsewhere and the card is not shown. The
 * provider cuts the host's power through its BMC, after a confirmation that says what HA will do, and
 * follows the recovery on the HA page; Power on gives the power back so the drill can run again.
 */
export function FailureDrillCard({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The BMC is read again every few seconds: the power changes under the drill, and the agent reboots by itself.
  const power = useQuery({ ...trpc.hosts.power.queryOptions({ hostId }), refetchInterval: 3000 });
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.hosts.power.queryFilter({ hostId })),
      queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: hostId })),
    ]);
  const cut = useMutation(
    trpc.hosts.simulateFailure.mutationOptions({
      onSuccess: async (result) => {
        setConfirming(false);
        setNotice(`Power cut at ${formatDateTime(result.at)}.`);
        await refresh();
      },
    }),
  );
  const on = useMutation(
    trpc.hosts.powerOn.mutationOptions({
      onSuccess: async () => {
        setNotice('Powered on: the host boots with its VMs off; those that restarted elsewhere are discarded.');
        await refresh();
      },
    }),
  );

  const view = power.data;
  if (!view) return null;
  return (
    <Card aria-labelledby="drill-heading">
      <CardHeader
        id="drill-heading"
        title="Host failure drill"
        description="Simulated hosts only: cut this host’s power through its BMC and watch HA restart its VMs on other hosts."
      />
      <div className="flex flex-col gap-3 p-4 text-[13px]">
        <p data-testid="host-power">
          Power:{' '}
          <span className="font-medium">
            {view.powerState === 'On' ? 'on' : view.powerState === 'Off' ? 'off' : 'unknown'}
          </span>
          {' · '}HA {view.haEnabled ? 'on' : 'off'} in {view.clusterName}
        </p>
        {view.problem ? <InlineError>{view.problem}</InlineError> : null}
        {on.isError ? <InlineError>{errorMessage(on.error)}</InlineError> : null}
        {notice ? (
          <p role="status" className="flex items-start gap-1.5 text-[12px] text-muted">
            <CheckCircle2 className="mt-px size-3.5 shrink-0 text-emerald-500" aria-hidden="true" />
            <span>
              {notice}{' '}
              <Link href="/admin/ha" className="font-medium text-fg underline hover:no-underline">
                Follow it on the HA page
              </Link>
            </span>
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          {view.powerState === 'Off' ? (
            <Button size="sm" variant="primary" loading={on.isPending} onClick={() => on.mutate({ hostId })}>
              Power on
            </Button>
          ) : (
            <Button
              size="sm"
              variant="danger"
              disabled={view.powerState !== 'On'}
              onClick={() => {
                cut.reset();
                setNotice(null);
                setConfirming(true);
              }}
            >
              Simulate host failure…
            </Button>
          )}
        </div>
      </div>
      <Dialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={`Simulate a failure of ${view.hostName}?`}
        description={view.consequence}
        footer={
          <>
            <Button onClick={() => setConfirming(false)}>Cancel</Button>
            <Button variant="danger" loading={cut.isPending} onClick={() => cut.mutate({ hostId, kind: 'power-loss' })}>
              Cut the power
            </Button>
          </>
        }
      >
        <p className="text-[12.5px] text-muted">
          Failure: <span className="font-medium text-fg">power loss</span>, a Redfish ForceOff through the host’s BMC,
          without warning to the host.
        </p>
        {cut.isError ? <InlineError>{errorMessage(cut.error)}</InlineError> : null}
      </Dialog>
    </Card>
  );
}
