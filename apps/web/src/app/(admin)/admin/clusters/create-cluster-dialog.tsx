'use client';

import { HYPERV_LIMITS } from '@fabric/core/shared/limits';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Textarea } from '@/components/ui/input';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { formatCount } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Cluster = RouterOutputs['clusters']['create'];

export function CreateClusterDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (cluster: Cluster) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [maxHosts, setMaxHosts] = useState(String(HYPERV_LIMITS.hostsPerCluster));
  const [maxVms, setMaxVms] = useState(String(HYPERV_LIMITS.vmsPerCluster));

  const create = useMutation(
    trpc.clusters.create.mutationOptions({
      onSuccess: async (cluster) => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.clusters.list.queryFilter()),
          queryClient.invalidateQueries(trpc.fabric.overview.queryFilter()),
        ]);
        reset();
        onCreated(cluster);
      },
    }),
  );
  const errors = create.isError ? fieldErrors(create.error) : {};
  const formError = create.isError && Object.keys(errors).length === 0 ? errorMessage(create.error) : null;

  function reset() {
    setName('');
    setDescription('');
    setMaxHosts(String(HYPERV_LIMITS.hostsPerCluster));
    setMaxVms(String(HYPERV_LIMITS.vmsPerCluster));
    create.reset();
  }

  function close() {
    reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({
      name,
      description: description || undefined,
      maxHosts: Number(maxHosts),
      maxVms: Number(maxVms),
    });
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="New cluster"
      description="Hosts in a cluster share storage and fail over to each other."
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {formError ? <InlineError>{formError}</InlineError> : null}
        <Field label="Name" htmlFor="cluster-name" error={errors.name}>
          <Input
            {...describedBy('cluster-name', errors.name)}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. prod-east-01"
            autoComplete="off"
            autoFocus
            required
          />
        </Field>
        <Field label="Description" htmlFor="cluster-description" error={errors.description}>
          <Textarea
            {...describedBy('cluster-description', errors.description)}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="Optional"
          />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field
            label="Max hosts"
            htmlFor="cluster-max-hosts"
            error={errors.maxHosts}
            hint={`Hyper-V limit: ${HYPERV_LIMITS.hostsPerCluster}`}
          >
            <Input
              {...describedBy('cluster-max-hosts', errors.maxHosts, true)}
              type="number"
              inputMode="numeric"
              min={1}
              max={HYPERV_LIMITS.hostsPerCluster}
              value={maxHosts}
              onChange={(e) => setMaxHosts(e.target.value)}
              className="tabular"
            />
          </Field>
          <Field
            label="Max VMs"
            htmlFor="cluster-max-vms"
            error={errors.maxVms}
            hint={`Hyper-V limit: ${formatCount(HYPERV_LIMITS.vmsPerCluster)}`}
          >
            <Input
              {...describedBy('cluster-max-vms', errors.maxVms, true)}
              type="number"
              inputMode="numeric"
              min={1}
              max={HYPERV_LIMITS.vmsPerCluster}
              value={maxVms}
              onChange={(e) => setMaxVms(e.target.value)}
              className="tabular"
            />
          </Field>
        </div>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={create.isPending}>
            Create cluster
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
