'use client';

import type { PatternResult } from '@fabric/core/shared/vm-pattern.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MoveRight } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { PatternField, PatternPreviewPanel, PatternResultPanel, sameInput } from '@/components/pattern/pattern-panels';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import { useHosts } from './migration-rows';

/** Why a host is no destination, beside it in the picker (placement's host-state filter refuses the same). */
const NOT_A_DESTINATION: Record<string, string> = {
  maintenance: 'in maintenance',
  suspect: 'suspect: missed heartbeats',
  failed: 'failed',
};

/**
 * Move-VM -Name web* (issue 12): every matching VM to one host, or each to
 * the best host (of its cluster, or of another cluster). The preview shows
 * each VM's destination and how it moves (live or cold, the predicted
 * time), or why it cannot; acting requests each migration through the usual
 * workflow, so the per-host caps queue them (Tasks shows "queued").
 */
export function MigrateByPatternCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const hosts = useHosts();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const [pattern, setPattern] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [to, setTo] = useState('best');
  const [toClusterId, setToClusterId] = useState('');
  const input = {
    pattern: pattern.trim(),
    ...(tenantId ? { tenantId } : {}),
    to,
    ...(to === 'best' && toClusterId ? { toClusterId } : {}),
  };
  const [asked, setAsked] = useState<typeof input | null>(null);
  const [result, setResult] = useState<PatternResult | null>(null);
  const preview = useQuery({
    ...trpc.mobility.previewMigrateByPattern.queryOptions(asked ?? input, { enabled: asked !== null }),
    retry: false,
  });
  const migrate = useMutation(
    trpc.mobility.migrateByPattern.mutationOptions({
      onSuccess: (out) => {
        setResult(out);
        setAsked(null);
        // The previews said what was true before: none of them may be shown (or acted on) again.
        queryClient.removeQueries({ queryKey: trpc.mobility.previewMigrateByPattern.pathKey() });
        return queryClient.invalidateQueries({ queryKey: trpc.mobility.pathKey() });
      },
    }),
  );
  // Acting needs a fresh preview of exactly what is in the form now.
  const current = asked !== null && sameInput(asked, input) && preview.data !== undefined && !preview.isFetching;
  const hits = current ? (preview.data?.items.filter((i) => i.ok).length ?? 0) : 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!input.pattern) return;
    setResult(null);
    if (asked && sameInput(asked, input)) void preview.refetch();
    else setAsked(input);
  }

  return (
    <Card className="mt-5" data-testid="migrate-by-pattern">
      <CardHeader
        title="Migrate by pattern"
        description="Every VM whose name matches, to one host or each to the best host. Running VMs move live, stopped ones cold; at most 2 per host at once, the rest wait in the queue."
      />
      <CardBody className="flex flex-col gap-3">
        <form className="flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
          <PatternField id="migrate-pattern" value={pattern} onChange={setPattern} />
          <Field label="Whose VMs" htmlFor="migrate-pattern-tenant">
            <Select id="migrate-pattern-tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)}>
              <option value="">Every tenant</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Destination" htmlFor="migrate-pattern-to">
            <Select id="migrate-pattern-to" value={to} onChange={(e) => setTo(e.target.value)}>
              <option value="best">Best host (the placement engine chooses)</option>
              {(hosts.data?.rows ?? []).map((h) => (
                <option key={h.id} value={h.id} disabled={h.state in NOT_A_DESTINATION}>
                  {h.name} ({h.clusterName}){NOT_A_DESTINATION[h.state] ? ` — ${NOT_A_DESTINATION[h.state]}` : ''}
                </option>
              ))}
            </Select>
          </Field>
          {to === 'best' ? (
            <Field label="In cluster" htmlFor="migrate-pattern-cluster">
              <Select id="migrate-pattern-cluster" value={toClusterId} onChange={(e) => setToClusterId(e.target.value)}>
                <option value="">Each VM's own cluster</option>
                {(clusters.data ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </Select>
            </Field>
          ) : null}
          <Button type="submit" loading={preview.isFetching} disabled={!input.pattern}>
            Preview
          </Button>
        </form>
        {asked ? (
          <PatternPreviewPanel
            preview={preview.data}
            error={preview.error}
            loading={preview.isFetching}
            verb="will move"
            testId="migrate-pattern-preview"
          />
        ) : null}
        {asked && !sameInput(asked, input) ? (
          <p className="text-[12.5px] text-muted">The form changed since this preview: preview again to act.</p>
        ) : null}
        {current ? (
          <div className="flex gap-2">
            <Button
              variant="primary"
              icon={<MoveRight />}
              disabled={hits === 0}
              loading={migrate.isPending}
              onClick={() => migrate.mutate(input)}
            >
              {hits === 0 ? 'Nothing to migrate' : `Migrate ${hits} VM${hits === 1 ? '' : 's'}`}
            </Button>
          </div>
        ) : null}
        {migrate.isError ? <InlineError>{errorMessage(migrate.error)}</InlineError> : null}
        {result ? <PatternResultPanel result={result} tasksBase="/admin/tasks" vmsBase="/admin/vms" /> : null}
      </CardBody>
    </Card>
  );
}
