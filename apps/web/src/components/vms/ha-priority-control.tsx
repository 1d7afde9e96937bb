'use client';

import { HA_PRIORITIES } from '@fabric/core/compute/vm.schema';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { InlineError } from '@/components/ui/error-state';
import { Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';

type HaPriority = (typeof HA_PRIORITIES)[number];

const LABEL: Record<HaPriority, string> = { high: 'High', medium: 'Medium', low: 'Low', off: 'Off (no restart)' };

/**
 * A VM's HA priority, changed in place (ha.setVmPriority: the tenant's own VMs in the portal, any VM
 * for a provider admin): who restarts first when its host fails; off stays down.
 */
export function HaPriorityControl({ vmId, vmName, priority }: { vmId: string; vmName: string; priority: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const set = useMutation(
    trpc.ha.setVmPriority.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.vms.get.queryFilter({ id: vmId }));
      },
    }),
  );
  const value = set.isPending ? set.variables.priority : priority;
  return (
    <div className="flex flex-col gap-1">
      <Select
        aria-label={`HA priority of ${vmName}`}
        value={value}
        disabled={set.isPending}
        onChange={(e) => {
          const next = HA_PRIORITIES.find((p) => p === e.target.value);
          if (next && next !== priority) set.mutate({ vmId, priority: next });
        }}
      >
        {HA_PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {LABEL[p]}
          </option>
        ))}
      </Select>
      {set.isError ? <InlineError>{errorMessage(set.error)}</InlineError> : null}
    </div>
  );
}
