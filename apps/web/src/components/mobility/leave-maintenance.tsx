'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { TaskStateBadge } from '@/components/tasks/task-state';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import { useStartedTask } from './use-started-task';

/** What mobility.bringBackPlan answers (BringBackPlan in core), as far as this form reads it. */
interface BringBackPlan {
  heading: string;
  back: { vmId: string; vmName: string; live: boolean; fromHostName: string }[];
  skipped: { vmId: string; vmName: string; reason: string }[];
}

/**
 * Leaving maintenance (issue 12): which VMs its evacuation moved off would come
 * back (running ones live, off ones cold) and which cannot, with why; a choice
 * to bring them back or leave them where they are; then the task that brings
 * them back, linked and followed live. Without the choice, nothing moves.
 */
export function LeaveMaintenance({
  hostId,
  hostName,
  onLeaving,
  onCancel,
  onDone,
}: {
  hostId: string;
  hostName: string;
  /**
   * Called as the admin confirms, before the answer: the host leaves maintenance, and the dialog must keep
   * this form (to follow the task) even if the host's new state arrives before the answer does.
   */
  onLeaving: () => void;
  onCancel: () => void;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [bringBack, setBringBack] = useState(true);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: hostId })),
      queryClient.invalidateQueries(trpc.hosts.list.queryFilter()),
      queryClient.invalidateQueries(trpc.fabric.overview.queryFilter()),
      // The host's VM list: the VMs that came back are on it now.
      queryClient.invalidateQueries(trpc.vms.list.queryFilter()),
    ]);
  const leave = useMutation(
    trpc.mobility.leaveMaintenance.mutationOptions({
      onSuccess: async (result) => {
        // With a task to follow the dialog stays open on its link; otherwise it is done.
        if (result.taskId) return;
        await refresh();
        onDone();
      },
    }),
  );
  const taskId = leave.data?.taskId ?? null;
  // Once the host has left maintenance there is no plan to read again (it would be refused): the answer's stands.
  const plan = useQuery({ ...trpc.mobility.bringBackPlan.queryOptions({ hostId }), enabled: !leave.data });
  const task = useStartedTask(taskId, () => void refresh());

  if (taskId) {
    const count = (leave.data?.plan as unknown as BringBackPlan | undefined)?.back.length ?? 0;
    return (
      <div className="flex flex-col gap-3 text-[13px]">
        <p className="flex flex-wrap items-center gap-2" data-testid="bring-back-task">
          {hostName} is out of maintenance; bringing back {count} {count === 1 ? 'VM' : 'VMs'}.
          <Link href={`/admin/tasks/${taskId}`} className="text-accent hover:underline">
            Follow it in Tasks
          </Link>
          {task.data ? <TaskStateBadge state={task.data.state} /> : null}
        </p>
        <div className="flex justify-end">
          <Button
            variant="primary"
            onClick={async () => {
              await refresh();
              onDone();
            }}
          >
            Done
          </Button>
        </div>
      </div>
    );
  }

  if (plan.isPending) return <Skeleton className="h-16 w-full" />;
  if (plan.isError) return <InlineError>{errorMessage(plan.error)}</InlineError>;
  const data = plan.data as unknown as BringBackPlan;
  const count = data.back.length;

  return (
    <div className="flex flex-col gap-4">
      <section
        aria-label="VMs to bring back"
        data-testid="bring-back-preview"
        className="flex flex-col gap-2 rounded-md border border-border p-3 text-[13px]"
      >
        {count > 0 ? (
          <label className="flex items-center gap-2 font-medium text-fg">
            <input
              type="checkbox"
              checked={bringBack}
              onChange={(e) => setBringBack(e.target.checked)}
              className="size-3.5 accent-[var(--color-accent)]"
            />
            {data.heading}
          </label>
        ) : (
          <h3 className="font-medium text-fg">{data.heading}</h3>
        )}
        {count > 0 ? (
          <ul className="max-h-40 overflow-auto text-muted">
            {data.back.map((v) => (
              <li key={v.vmId}>
                <span className="text-fg">{v.vmName}</span> from {v.fromHostName} —{' '}
                {v.live ? 'running: live migration' : 'off: cold move'}
              </li>
            ))}
          </ul>
        ) : null}
        {data.skipped.length ? (
          <>
            <p className="text-muted">{data.skipped.length === 1 ? 'Stays where it is:' : 'Stay where they are:'}</p>
            <ul className="max-h-40 overflow-auto text-muted">
              {data.skipped.map((s) => (
                <li key={s.vmId}>
                  <span className="text-fg">{s.vmName}</span>: {s.reason}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {count > 0 && !bringBack ? <p className="text-muted">Nothing moves: the VMs stay where they are.</p> : null}
      </section>
      {leave.isError ? <InlineError>{errorMessage(leave.error)}</InlineError> : null}
      <div className="flex justify-end gap-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button
          variant="primary"
          loading={leave.isPending}
          autoFocus
          onClick={() => {
            onLeaving();
            leave.mutate({ hostId, bringBack: bringBack && count > 0 });
          }}
        >
          {bringBack && count > 0 ? `Exit maintenance and bring back ${count}` : 'Exit maintenance'}
        </Button>
      </div>
    </div>
  );
}
