'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { isActive } from '@/components/tasks/task-labels';
import { TaskStateBadge } from '@/components/tasks/task-state';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { formatBytes } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { useStartedTask } from './use-started-task';

/** What mobility.storagePreview answers (StorageMovePlan in core), as far as this card reads it. */
interface StorageMovePlan {
  hostName: string;
  toPool: string;
  disks: { name: string; fromPool: string; sizeBytes: number }[];
  bytes: number;
  freeBytes: number;
  live: boolean;
}

/**
 * Live storage migration of one VM (issue 12), for provider admins: choose
 * another pool of the VM's host, see what moves and the room there, move. The
 * move is a task with the whitepaper's phases (copy, mirror, switch, delete);
 * the card links to it, follows it, and reads the pools and the VM's disks
 * again when it has ended. Nothing is chosen at first, so nothing is refused
 * before the admin asks: the pool that holds every disk already is listed but
 * cannot be chosen; a pool that cannot take the disks says why under the picker
 * (the button stays off), and a refused move is an error once it is submitted.
 */
export function VmStorageMoveCard({
  vmId,
  hostId,
  diskPools,
}: {
  vmId: string;
  hostId: string | null;
  /** The pool of each of the VM's disks (null: not known). */
  diskPools: readonly (string | null)[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [toPool, setToPool] = useState('');
  const [taskId, setTaskId] = useState<string | null>(null);
  const host = useQuery({ ...trpc.hosts.get.queryOptions({ id: hostId ?? '' }), enabled: hostId !== null });
  const pools = host.data?.storagePools ?? [];
  const current = new Set(diskPools);
  const allOn = (name: string) => diskPools.length > 0 && current.size === 1 && current.has(name);
  const move = useMutation(
    trpc.mobility.moveStorage.mutationOptions({ onSuccess: (result) => setTaskId(result.taskId) }),
  );
  // When it has ended the disks are elsewhere and the pools' room changed: read them again.
  const task = useStartedTask(taskId, () => {
    setToPool('');
    move.reset();
    void queryClient.invalidateQueries(trpc.vms.get.queryFilter({ id: vmId }));
    void queryClient.invalidateQueries({ queryKey: trpc.hosts.get.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.mobility.pathKey() });
  });
  const running = task.data ? isActive(task.data.state) : taskId !== null;
  const preview = useQuery({
    ...trpc.mobility.storagePreview.queryOptions({ vmId, toPool }),
    enabled: toPool !== '' && !running,
    retry: false,
  });
  const plan = preview.data as unknown as StorageMovePlan | undefined;
  return (
    <Card data-testid="storage-move-card">
      <CardHeader title="Move storage" />
      <div className="flex flex-col gap-3 px-4 py-3 text-[13px]">
        {hostId === null ? (
          <p className="text-muted">The VM is on no host: there is no storage to move.</p>
        ) : (
          <>
            <Field
              label="Destination pool"
              htmlFor="storage-move-to"
              hint="A pool of the VM's host. The disks are copied while the VM runs, writes go to both, then it switches over and the source files are deleted."
            >
              <Select id="storage-move-to" value={toPool} onChange={(e) => setToPool(e.target.value)}>
                <option value="">Choose a pool…</option>
                {pools.map((p) => (
                  <option key={p.name} value={p.name} disabled={allOn(p.name)}>
                    {p.name} ({formatBytes(Math.max(0, p.capacityBytes - p.usedBytes))} free)
                    {allOn(p.name) ? ' — the disks are here' : ''}
                  </option>
                ))}
              </Select>
            </Field>
            {host.isError ? <InlineError>{errorMessage(host.error)}</InlineError> : null}
            {preview.isError ? (
              <p className="text-muted" data-testid="storage-move-refusal">
                Cannot move there: {errorMessage(preview.error)}
              </p>
            ) : null}
            {plan ? (
              <p className="text-muted">
                {plan.disks.map((d) => `${d.name} (${formatBytes(d.sizeBytes)}, from ${d.fromPool})`).join(', ')} to{' '}
                {plan.toPool} on {plan.hostName}: {formatBytes(plan.bytes)} of {formatBytes(plan.freeBytes)} free.
                {plan.live ? ' The VM keeps running.' : ''}
              </p>
            ) : null}
            {move.isError ? <InlineError>{errorMessage(move.error)}</InlineError> : null}
            {taskId ? (
              <p className="flex flex-wrap items-center gap-2" data-testid="storage-move-task">
                {running ? 'Storage move started.' : 'Storage move ended.'}{' '}
                <Link href={`/admin/tasks/${taskId}`} className="text-accent hover:underline">
                  Follow it in Tasks
                </Link>
                {task.data ? <TaskStateBadge state={task.data.state} /> : null}
              </p>
            ) : null}
            <div className="flex justify-end">
              <Button
                variant="primary"
                loading={move.isPending}
                disabled={!plan || running}
                onClick={() => move.mutate({ vmId, toPool })}
              >
                {plan ? `Move storage to ${plan.toPool}` : 'Move storage'}
              </Button>
            </div>
          </>
        )}
      </div>
    </Card>
  );
}
