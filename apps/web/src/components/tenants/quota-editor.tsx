'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Pencil } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { QuotaStrip, QuotaStripSkeleton } from '@/components/vms/quota-strip';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type QuotaAndUsage = RouterOutputs['quotas']['get'];
type Quota = QuotaAndUsage['quota'];
type Usage = QuotaAndUsage['usage'];

const GiB = 1024 ** 3;

/** Each quota field: how people enter it (memory and storage in GiB) and the usage it is compared with. */
const FIELDS: {
  key: keyof Quota;
  label: string;
  unit: string;
  toInput: (v: number) => number;
  fromInput: (v: number) => number;
  used: (u: Usage) => number;
  format: (n: number) => string;
  max: number;
}[] = [
  {
    key: 'maxVms',
    label: 'VMs',
    unit: 'VMs',
    toInput: (v) => v,
    fromInput: (v) => v,
    used: (u) => u.vms,
    format: formatCount,
    max: 100_000,
  },
  {
    key: 'maxVcpus',
    label: 'vCPUs',
    unit: 'vCPUs',
    toInput: (v) => v,
    fromInput: (v) => v,
    used: (u) => u.vcpus,
    format: formatCount,
    max: 1_000_000,
  },
  {
    key: 'maxMemoryMiB',
    label: 'Memory',
    unit: 'GiB',
    toInput: (v) => v / 1024,
    fromInput: (v) => Math.round(v * 1024),
    used: (u) => u.memoryMiB,
    format: formatMiB,
    max: (2 ** 31 - 1) / 1024,
  },
  {
    key: 'maxStorageBytes',
    label: 'Storage',
    unit: 'GiB',
    toInput: (v) => v / GiB,
    fromInput: (v) => Math.round(v * GiB),
    used: (u) => u.storageBytes,
    format: formatBytes,
    max: Number.MAX_SAFE_INTEGER / GiB,
  },
  {
    key: 'maxRunningVms',
    label: 'Running VMs',
    unit: 'VMs',
    toInput: (v) => v,
    fromInput: (v) => v,
    used: (u) => u.runningVms,
    format: formatCount,
    max: 100_000,
  },
  {
    key: 'maxRunningVcpus',
    label: 'Running vCPUs',
    unit: 'vCPUs',
    toInput: (v) => v,
    fromInput: (v) => v,
    used: (u) => u.runningVcpus,
    format: formatCount,
    max: 1_000_000,
  },
  {
    key: 'maxRunningMemoryMiB',
    label: 'Running memory',
    unit: 'GiB',
    toInput: (v) => v / 1024,
    fromInput: (v) => Math.round(v * 1024),
    used: (u) => u.runningMemoryMiB,
    format: formatMiB,
    max: (2 ** 31 - 1) / 1024,
  },
];

const trim = (n: number) => String(Number.isInteger(n) ? n : Number(n.toFixed(2)));

/** A tenant's quota (provider admin): current use, and an editor that checks the numbers before saving. */
export function QuotaEditor({ tenantId, tenantName }: { tenantId: string; tenantName: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const quota = useQuery(trpc.quotas.get.queryOptions({ tenantId }));
  const [draft, setDraft] = useState<Record<string, string> | null>(null);
  const save = useMutation(
    trpc.quotas.set.mutationOptions({
      onSuccess: (data) => {
        queryClient.setQueryData(trpc.quotas.get.queryKey({ tenantId }), data);
        setDraft(null);
      },
    }),
  );

  if (quota.isPending) {
    return (
      <Card className="p-4">
        <QuotaStripSkeleton />
      </Card>
    );
  }
  if (quota.isError) {
    return (
      <Card>
        <ErrorState
          error={quota.error}
          title="Could not load the quota"
          onRetry={() => void quota.refetch()}
          retrying={quota.isFetching}
        />
      </Card>
    );
  }

  const data = quota.data;
  const errors: Record<string, string> = {};
  const warnings: Record<string, string> = {};
  if (draft) {
    for (const f of FIELDS) {
      const raw = draft[f.key] ?? '';
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(n) || n < 0) errors[f.key] = `Enter 0 or more ${f.unit}`;
      else if (f.unit !== 'GiB' && !Number.isInteger(n)) errors[f.key] = 'Enter a whole number';
      else if (n > f.max) errors[f.key] = `At most ${formatCount(f.max)} ${f.unit}`;
      else if (f.fromInput(n) < f.used(data.usage))
        warnings[f.key] =
          `Below current use (${f.format(f.used(data.usage))}): nothing is stopped, but nothing new fits`;
    }
    const value = (k: keyof Quota) => Number(draft[k]);
    if (!errors.maxRunningVms && !errors.maxVms && value('maxRunningVms') > value('maxVms'))
      warnings.maxRunningVms = 'More than the VM limit; the VM limit caps it';
  }
  const serverErrors = save.isError ? fieldErrors(save.error) : {};

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!draft || Object.keys(errors).length > 0) return;
    const next = Object.fromEntries(FIELDS.map((f) => [f.key, f.fromInput(Number(draft[f.key]))]));
    save.mutate({
      tenantId,
      quota: {
        maxVms: next.maxVms ?? 0,
        maxVcpus: next.maxVcpus ?? 0,
        maxMemoryMiB: next.maxMemoryMiB ?? 0,
        maxStorageBytes: next.maxStorageBytes ?? 0,
        maxRunningVms: next.maxRunningVms ?? 0,
        maxRunningVcpus: next.maxRunningVcpus ?? 0,
        maxRunningMemoryMiB: next.maxRunningMemoryMiB ?? 0,
      },
    });
  }

  return (
    <Card className="overflow-hidden" data-testid="quota-editor">
      <CardHeader
        title="Quota and usage"
        description={`What ${tenantName} may allocate and run; creates and starts over it are refused`}
        actions={
          draft ? undefined : (
            <Button
              size="sm"
              icon={<Pencil />}
              onClick={() =>
                setDraft(Object.fromEntries(FIELDS.map((f) => [f.key, trim(f.toInput(data.quota[f.key]))])))
              }
            >
              Edit quota
            </Button>
          )
        }
      />
      <div className="p-4">
        <QuotaStrip data={data} />
      </div>
      {draft ? (
        <form onSubmit={submit} noValidate className="border-t border-border" aria-label="Edit quota">
          <div className="grid grid-cols-1 gap-4 p-4 sm:grid-cols-2 lg:grid-cols-4">
            {FIELDS.map((f) => {
              const id = `quota-${f.key}`;
              const error = errors[f.key] ?? serverErrors.quota;
              return (
                <Field
                  key={f.key}
                  label={f.unit === 'GiB' ? `${f.label} (GiB)` : f.label}
                  htmlFor={id}
                  error={error}
                  hint={warnings[f.key] ?? `In use: ${f.format(f.used(data.usage))}`}
                >
                  <Input
                    {...describedBy(id, error, true)}
                    type="number"
                    min={0}
                    step={f.unit === 'GiB' ? 'any' : 1}
                    value={draft[f.key] ?? ''}
                    onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
                  />
                </Field>
              );
            })}
          </div>
          {save.isError && !serverErrors.quota ? (
            <div className="px-4 pb-3">
              <InlineError>{errorMessage(save.error)}</InlineError>
            </div>
          ) : null}
          <div className="flex items-center justify-end gap-2 border-t border-border bg-surface-2/60 px-4 py-3">
            <Button
              onClick={() => {
                setDraft(null);
                save.reset();
              }}
            >
              Cancel
            </Button>
            <Button type="submit" variant="primary" loading={save.isPending} disabled={Object.keys(errors).length > 0}>
              Save quota
            </Button>
          </div>
        </form>
      ) : null}
    </Card>
  );
}
