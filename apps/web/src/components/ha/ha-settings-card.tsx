'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2 } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';

/** The fence methods (core ha-settings.ts), each with what it waits for before a failed host's VMs restart. */
const FENCE_METHODS = [
  {
    value: 'lease',
    label: 'Lease',
    help: 'Restart once the host has been silent for the fencing timeout: by then a cut-off host has applied its isolation response.',
  },
  {
    value: 'self-confirm',
    label: 'Self-confirm',
    help: 'Restart as soon as the cut-off host says (through the shared heartbeat directory) that it stopped its VMs; the lease as fallback.',
  },
  {
    value: 'bmc',
    label: 'BMC power-off',
    help: "Power the host off out of band through its BMC (Redfish; set on each host's page) and restart once it reads Off, without waiting for the lease. If the BMC is missing, refuses the login or does not answer, the event says why and falls back to the lease. The only method that allows keep-running.",
  },
] as const;
const ISOLATION_RESPONSES = [
  { value: 'power-off', label: 'Power off its VMs' },
  { value: 'shut-down', label: 'Shut down its VMs' },
  { value: 'keep-running', label: 'Keep running (BMC fencing only)' },
] as const;

type Draft = {
  enabled: boolean;
  detectionS: string;
  isolationS: string;
  fencingS: string;
  isolationResponse: string;
  fenceMethod: string;
};

/**
 * A cluster's HA settings: on/off, timeouts, isolation response and fence method; a change that breaks a rule is refused with it.
 * The page owns which cluster is picked (its warnings are about that cluster): `useHaCluster`.
 */
export function HaSettingsCard({ picked, onPick }: { picked: string | null; onPick: (clusterId: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const clusterId = picked ?? clusters.data?.[0]?.id ?? null;
  const settings = useQuery({ ...trpc.ha.settings.queryOptions({ clusterId: clusterId ?? '' }), enabled: !!clusterId });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const s = settings.data;
  const form: Draft | null =
    draft ??
    (s
      ? {
          enabled: s.enabled,
          detectionS: String(s.detectionTimeoutMs / 1000),
          isolationS: String(s.isolationTimeoutMs / 1000),
          fencingS: String(s.fencingTimeoutMs / 1000),
          isolationResponse: s.isolationResponse,
          fenceMethod: s.fenceMethod,
        }
      : null);
  const save = useMutation(
    trpc.ha.updateSettings.mutationOptions({
      onSuccess: async () => {
        setDraft(null);
        setNotice('HA settings saved.');
        await queryClient.invalidateQueries(trpc.ha.settings.queryFilter({ clusterId: clusterId ?? '' }));
      },
    }),
  );

  function edit(patch: Partial<Draft>) {
    if (!form) return;
    setDraft({ ...form, ...patch });
    setNotice(null);
    if (save.isError) save.reset();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!form || !clusterId || !draft) return;
    const ms = (v: string) => Math.round(Number(v) * 1000);
    save.mutate({
      clusterId,
      settings: {
        enabled: form.enabled,
        detectionTimeoutMs: ms(form.detectionS),
        isolationTimeoutMs: ms(form.isolationS),
        fencingTimeoutMs: ms(form.fencingS),
        isolationResponse: form.isolationResponse as (typeof ISOLATION_RESPONSES)[number]['value'],
        fenceMethod: form.fenceMethod as (typeof FENCE_METHODS)[number]['value'],
      },
    });
  }

  const method = FENCE_METHODS.find((m) => m.value === form?.fenceMethod);
  return (
    <Card aria-labelledby="ha-settings-heading">
      <CardHeader
        id="ha-settings-heading"
        title="Cluster settings"
        description={
          s
            ? `Agents heartbeat every ${(s.heartbeatIntervalMs / 1000).toFixed(1)} s; the rules between settings use it.`
            : undefined
        }
        actions={
          clusters.data && clusters.data.length > 1 ? (
            <Select
              aria-label="Cluster"
              value={clusterId ?? ''}
              onChange={(e) => {
                onPick(e.target.value);
                setDraft(null);
                setNotice(null);
                save.reset();
              }}
            >
              {clusters.data.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          ) : null
        }
      />
      {clusters.isError || settings.isError ? (
        <div className="p-4">
          <InlineError>Could not load the HA settings: {errorMessage(clusters.error ?? settings.error)}</InlineError>
        </div>
      ) : clusters.data && !clusters.data.length ? (
        <p className="p-4 text-[13px] text-muted">No clusters yet.</p>
      ) : !form ? (
        <div className="p-4">
          <Skeleton className="h-32" />
        </div>
      ) : (
        <form onSubmit={submit} className="grid grid-cols-1 gap-3 p-4 md:grid-cols-3" data-testid="ha-settings-form">
          {save.isError ? (
            <div className="md:col-span-3">
              <InlineError>{errorMessage(save.error)}</InlineError>
            </div>
          ) : null}
          <label className="flex items-center gap-2 text-[13px] text-fg md:col-span-3">
            <input
              type="checkbox"
              checked={form.enabled}
              onChange={(e) => edit({ enabled: e.target.checked })}
              className="size-3.5 accent-[var(--color-accent)]"
            />
            HA on for this cluster
          </label>
          <Field
            label="Detection timeout (s)"
            htmlFor="ha-detection"
            hint="A host silent this long opens a failure event"
          >
            <Input
              {...describedBy('ha-detection', undefined, true)}
              type="number"
              min={1}
              step="0.5"
              value={form.detectionS}
              onChange={(e) => edit({ detectionS: e.target.value })}
            />
          </Field>
          <Field
            label="Isolation timeout (s)"
            htmlFor="ha-isolation"
            hint="A cut-off host applies its isolation response"
          >
            <Input
              {...describedBy('ha-isolation', undefined, true)}
              type="number"
              min={1}
              step="0.5"
              value={form.isolationS}
              onChange={(e) => edit({ isolationS: e.target.value })}
            />
          </Field>
          <Field
            label="Fencing timeout (s)"
            htmlFor="ha-fencing"
            hint="The lease: silent this long, it has self-fenced"
          >
            <Input
              {...describedBy('ha-fencing', undefined, true)}
              type="number"
              min={1}
              step="0.5"
              value={form.fencingS}
              onChange={(e) => edit({ fencingS: e.target.value })}
            />
          </Field>
          <Field label="Isolation response" htmlFor="ha-isolation-response">
            <Select
              id="ha-isolation-response"
              value={form.isolationResponse}
              onChange={(e) => edit({ isolationResponse: e.target.value })}
            >
              {ISOLATION_RESPONSES.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Fence method" htmlFor="ha-fence-method" hint={method?.help} className="md:col-span-2">
            <Select
              {...describedBy('ha-fence-method', undefined, true)}
              value={form.fenceMethod}
              onChange={(e) => edit({ fenceMethod: e.target.value })}
            >
              {FENCE_METHODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </Select>
          </Field>
          <div className="flex items-center justify-between gap-3 md:col-span-3">
            <p role="status" className="min-w-0 text-[12px] text-muted">
              {notice ? (
                <span className="flex items-start gap-1.5">
                  <CheckCircle2 className="mt-px size-3.5 shrink-0 text-emerald-500" aria-hidden="true" />
                  {notice}
                </span>
              ) : null}
            </p>
            <Button type="submit" size="sm" variant="primary" disabled={!draft} loading={save.isPending}>
              Save settings
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}

/** The HA page's picked cluster (the first until one is picked) and its saved settings, shared with the settings card's queries. */
export function useHaCluster() {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const [picked, setPicked] = useState<string | null>(null);
  const clusterId = picked ?? clusters.data?.[0]?.id ?? null;
  const settings = useQuery({ ...trpc.ha.settings.queryOptions({ clusterId: clusterId ?? '' }), enabled: !!clusterId });
  return { picked, setPicked, clusterId, haEnabled: settings.data?.enabled };
}
