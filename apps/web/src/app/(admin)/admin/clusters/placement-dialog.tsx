'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { cn } from '@/lib/cn';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Cluster = RouterOutputs['clusters']['list'][number];
export type PlacementPolicy = 'balance' | 'pack';

// What the database defaults a cluster to (prisma schema: balance, 4.0).
export const DEFAULT_POLICY: PlacementPolicy = 'balance';
export const DEFAULT_OVERCOMMIT = 4;
const MIN_RATIO = 1;
const MAX_RATIO = 16;

export const POLICIES: readonly { value: PlacementPolicy; label: string; explanation: string }[] = [
  {
    value: 'balance',
    label: 'Balance',
    explanation: 'Spreads VMs across hosts so each keeps headroom for spikes and failover.',
  },
  {
    value: 'pack',
    label: 'Pack',
    explanation: 'Fills the busiest hosts first so whole hosts stay free (to power down or service).',
  },
];

export function policyLabel(policy: PlacementPolicy | undefined): string {
  return policy === 'pack' ? 'Pack' : 'Balance';
}

/** "4.0 vCPUs per LP": the vCPUs placement admits for each logical processor. */
export function formatOvercommit(ratio: number | undefined): string {
  return `${(ratio ?? DEFAULT_OVERCOMMIT).toFixed(1)} vCPUs per LP`;
}

function validateRatio(text: string): string | undefined {
  if (text.trim() === '') return 'Enter the vCPU overcommit ratio';
  const value = Number(text);
  if (!Number.isFinite(value)) return 'Enter a number, e.g. 4.0';
  if (value < MIN_RATIO) return 'vCPU overcommit is at least 1.0 (no overcommit)';
  if (value > MAX_RATIO) return 'vCPU overcommit is at most 16.0';
  if (Math.round(value * 100) !== value * 100) return 'Use at most two decimals';
  return undefined;
}

/** Mounted per open (keyed by the caller), so the draft starts from the cluster's current settings. */
export function PlacementDialog({ cluster, onClose }: { cluster: Cluster; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [policy, setPolicy] = useState<PlacementPolicy>(cluster.placementPolicy ?? DEFAULT_POLICY);
  const [ratioText, setRatioText] = useState((cluster.cpuOvercommitRatio ?? DEFAULT_OVERCOMMIT).toFixed(1));
  const [attempted, setAttempted] = useState(false);

  const save = useMutation(
    trpc.clusters.setPlacement.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.clusters.list.queryFilter()),
          queryClient.invalidateQueries(trpc.clusters.get.queryFilter({ id: cluster.id })),
        ]);
        onClose();
      },
    }),
  );

  const serverFields = save.isError ? fieldErrors(save.error) : {};
  const localError = validateRatio(ratioText);
  const ratioError = (attempted ? localError : undefined) ?? serverFields.cpuOvercommitRatio;
  const formError =
    save.isError && !serverFields.cpuOvercommitRatio && !serverFields.policy ? errorMessage(save.error) : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    if (localError) {
      document.getElementById('placement-ratio')?.focus();
      return;
    }
    save.mutate({ id: cluster.id, policy, cpuOvercommitRatio: Number(ratioText) });
  }

  const preview = Number(ratioText);
  return (
    <Dialog
      open
      onClose={onClose}
      title={`Placement in ${cluster.name}`}
      description="How new VMs are spread over this cluster's hosts. Running VMs are not moved."
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {formError ? <InlineError>{formError}</InlineError> : null}
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1.5 text-[12.5px] font-medium text-fg">Policy</legend>
          {POLICIES.map((option) => (
            <label
              key={option.value}
              className={cn(
                'flex cursor-pointer items-start gap-2.5 rounded-md border px-3 py-2.5 transition-colors',
                'has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-ring',
                policy === option.value
                  ? 'border-accent bg-accent-soft ring-1 ring-accent'
                  : 'border-border-strong hover:bg-surface-hover',
              )}
            >
              <input
                type="radio"
                name="placement-policy"
                value={option.value}
                checked={policy === option.value}
                onChange={() => {
                  setPolicy(option.value);
                  if (save.isError) save.reset();
                }}
                className="mt-0.5 size-3.5 accent-[var(--color-accent)]"
              />
              <span className="min-w-0">
                <span className="block text-[13px] font-medium text-fg">{option.label}</span>
                <span className="block text-[12px] text-muted">{option.explanation}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <Field
          label="vCPU overcommit (vCPUs per logical processor)"
          htmlFor="placement-ratio"
          error={ratioError}
          hint={
            Number.isFinite(preview) && !localError
              ? `A 64-LP host admits up to ${Math.floor(64 * preview)} vCPUs. 1.0 means no overcommit; up to 16.0.`
              : '1.0 (no overcommit) to 16.0'
          }
        >
          <Input
            {...describedBy('placement-ratio', ratioError, true)}
            type="number"
            inputMode="decimal"
            min={MIN_RATIO}
            max={MAX_RATIO}
            step={0.5}
            value={ratioText}
            onChange={(e) => {
              setRatioText(e.target.value);
              if (save.isError) save.reset();
            }}
            onBlur={() => setAttempted(true)}
            className="w-32 tabular"
          />
        </Field>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" loading={save.isPending}>
            Save placement
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
