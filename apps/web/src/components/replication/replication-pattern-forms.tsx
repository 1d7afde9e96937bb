'use client';

import type { PointChoice, ReplicationFrequency } from '@fabric/core/replication/replication.schema';
import type { PatternResult } from '@fabric/core/shared/vm-pattern.schema';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Copy, Repeat } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { PatternField, PatternPreviewPanel, PatternResultPanel, sameInput } from '@/components/pattern/pattern-panels';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { Field, Input, Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import {
  APP_CONSISTENT_CHOICES,
  appConsistentHours,
  appConsistentLabel,
  FREQUENCIES,
  POINT_CHOICES,
} from './replication-choices';

type Area = 'portal' | 'admin';
type FailoverKind = 'test' | 'planned' | 'unplanned';

type PointKind = PointChoice['choice'];
/** Which recovery point test and unplanned failovers start from, as the form offers it and the confirmation says it. */
const POINT_TEXT: Record<PointKind, { label: string; words: string }> = {
  latest: { label: 'The latest', words: 'its latest recovery point' },
  'latest-app-consistent': {
    label: 'The latest application-consistent',
    words: 'its latest application-consistent recovery point (the guest had finished its writes)',
  },
  'at-or-before': {
    label: 'The newest at or before a time',
    words: 'its newest recovery point at or before the time given',
  },
};

/** Plain-language confirmations of a failover of many VMs: what happens to each, before it runs ({point}: which point). */
const FAILOVER_TEXT: Record<FailoverKind, { label: string; verb: string; title: string; body: string; go: string }> = {
  test: {
    label: 'Test failover',
    verb: 'will start a test copy',
    title: 'Start a test failover of these VMs?',
    body: 'For each VM below, a copy starts on the replica side from {point}, on an isolated network. The VMs themselves keep running and replication continues. Stop each test to remove its copy.',
    go: 'Start test copies',
  },
  planned: {
    label: 'Planned failover',
    verb: 'will fail over with no data lost',
    title: 'Fail over these VMs, planned?',
    body: 'Each VM below is shut down, its last changes are sent, and it starts on the replica side only if both copies are identical; then replication runs the other way. Each VM is unavailable for about a minute.',
    go: 'Fail over',
  },
  unplanned: {
    label: 'Failover (primary is down)',
    verb: 'will start on the replica side',
    title: 'Fail over these VMs to their replicas?',
    body: 'Use this when the primary side is down. Each VM below starts on the replica side from {point}: anything written after that point is lost. For each you can then complete the failover or cancel it.',
    go: 'Start the replicas',
  },
};

/** The provider's tenant filter of a pattern form (a tenant's pattern is always its own). */
function TenantPicker({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const trpc = useTRPC();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  return (
    <Field label="Whose VMs" htmlFor={id}>
      <Select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Every tenant</option>
        {(tenants.data ?? []).map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}

/**
 * Where a tenant may replicate: the sites offered for one of its VMs matching
 * the pattern (or any of its VMs). A VM whose cluster the site does not accept
 * is listed by the preview with that reason.
 */
function usePortalTargets(pattern: string) {
  const trpc = useTRPC();
  const literal = pattern.split(/[*?]+/).reduce((a, b) => (b.length > a.length ? b : a), '');
  const vms = useQuery(
    trpc.vms.list.queryOptions({ search: literal || undefined, pageSize: 10 }, { placeholderData: keepPreviousData }),
  );
  const vmId = vms.data?.rows[0]?.id;
  const targets = useQuery(trpc.replication.targets.queryOptions({ vmId: vmId ?? '' }, { enabled: Boolean(vmId) }));
  return (targets.data ?? []).map((t, i) => ({ id: t.clusterId, label: `Replica site ${i + 1}` }));
}

function useAdminTargets(enabled: boolean) {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions(undefined, { enabled }));
  return (clusters.data ?? []).map((c) => ({ id: c.id, label: c.name }));
}

/** Enable-VMReplication -VMName web*: one set of settings for every matching VM, previewed first. */
export function EnableByPatternCard({ area }: { area: Area }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [pattern, setPattern] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [cluster, setCluster] = useState('');
  const [frequency, setFrequency] = useState<ReplicationFrequency>(300);
  const [points, setPoints] = useState(0);
  const [appHours, setAppHours] = useState(0);
  const portalTargets = usePortalTargets(area === 'portal' ? pattern.trim() : '');
  const adminTargets = useAdminTargets(area === 'admin');
  const targets = area === 'portal' ? portalTargets : adminTargets;
  const clusterId = cluster || targets[0]?.id || '';
  const input = {
    pattern: pattern.trim(),
    ...(tenantId ? { tenantId } : {}),
    target: { kind: 'cluster' as const, clusterId },
    frequencySeconds: frequency,
    additionalPoints: points,
    appConsistentHours: appConsistentHours(appHours),
  };
  const [asked, setAsked] = useState<typeof input | null>(null);
  const [result, setResult] = useState<PatternResult | null>(null);
  const preview = useQuery(
    trpc.replication.previewEnableByPattern.queryOptions(asked ?? input, { enabled: asked !== null }),
  );
  const enable = useMutation(
    trpc.replication.enableByPattern.mutationOptions({
      onSuccess: (out) => {
        setResult(out);
        setAsked(null);
        // The previews said what was true before: none of them may be shown (or acted on) again.
        queryClient.removeQueries({ queryKey: trpc.replication.previewEnableByPattern.pathKey() });
        return queryClient.invalidateQueries(trpc.replication.pathFilter());
      },
    }),
  );
  // Acting needs a fresh preview of exactly what is in the form now.
  const current = asked !== null && sameInput(asked, input) && preview.data !== undefined && !preview.isFetching;
  const hits = current ? (preview.data?.items.filter((i) => i.ok).length ?? 0) : 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!input.pattern || !clusterId) return;
    setResult(null);
    if (asked && sameInput(asked, input)) void preview.refetch();
    else setAsked(input);
  }

  return (
    <Card data-testid="enable-by-pattern">
      <CardHeader
        title="Enable replication by pattern"
        description="Every VM whose name matches, with the same settings. Preview first: each VM that cannot replicate is listed with why, and left as it is."
      />
      <CardBody className="flex flex-col gap-3">
        <form className="flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
          <PatternField id={`${area}-enable-pattern`} value={pattern} onChange={setPattern} />
          {area === 'admin' ? (
            <TenantPicker id="enable-pattern-tenant" value={tenantId} onChange={setTenantId} />
          ) : null}
          <Field label={area === 'admin' ? 'Replicate to cluster' : 'Replica site'} htmlFor={`${area}-enable-target`}>
            <Select id={`${area}-enable-target`} value={clusterId} onChange={(e) => setCluster(e.target.value)}>
              {targets.length === 0 ? <option value="">No replica site offered</option> : null}
              {targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Send changes" htmlFor={`${area}-enable-frequency`}>
            <Select
              id={`${area}-enable-frequency`}
              value={frequency}
              onChange={(e) => setFrequency(FREQUENCIES.find((f) => f.value === Number(e.target.value))?.value ?? 300)}
            >
              {FREQUENCIES.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Extra hourly recovery points" htmlFor={`${area}-enable-points`} hint="0–24">
            <Select id={`${area}-enable-points`} value={points} onChange={(e) => setPoints(Number(e.target.value))}>
              {POINT_CHOICES.map((n) => (
                <option key={n} value={n}>
                  {n === 0 ? 'Latest only' : n}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Application-consistent points"
            htmlFor={`${area}-enable-app-consistent`}
            hint="The guest finishes and holds its writes for them"
          >
            <Select
              id={`${area}-enable-app-consistent`}
              value={appHours}
              onChange={(e) => setAppHours(Number(e.target.value))}
            >
              {APP_CONSISTENT_CHOICES.map((n) => (
                <option key={n} value={n}>
                  {appConsistentLabel(n)}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" loading={preview.isFetching} disabled={!input.pattern || !clusterId}>
            Preview
          </Button>
        </form>
        {asked ? (
          <PatternPreviewPanel
            preview={preview.data}
            error={preview.error}
            loading={preview.isFetching}
            verb="will replicate"
            testId="enable-pattern-preview"
          />
        ) : null}
        {asked && !sameInput(asked, input) ? (
          <p className="text-[12.5px] text-muted">The form changed since this preview: preview again to act.</p>
        ) : null}
        {current ? (
          <div className="flex gap-2">
            <Button
              variant="primary"
              icon={<Copy />}
              disabled={hits === 0}
              loading={enable.isPending}
              onClick={() => enable.mutate(input)}
            >
              {hits === 0 ? 'Nothing to enable' : `Enable replication for ${hits} VM${hits === 1 ? '' : 's'}`}
            </Button>
          </div>
        ) : null}
        {enable.isError ? <InlineError>{errorMessage(enable.error)}</InlineError> : null}
        {result ? <PatternResultPanel result={result} tasksBase={`/${area}/tasks`} vmsBase={`/${area}/vms`} /> : null}
      </CardBody>
    </Card>
  );
}

/** Start-VMFailover -VMName web*: test, planned or unplanned for every matching VM, previewed, then confirmed in words. */
export function FailoverByPatternCard({ area }: { area: Area }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [pattern, setPattern] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [kind, setKind] = useState<FailoverKind>('test');
  const [pointKind, setPointKind] = useState<PointKind>('latest');
  // datetime-local: the browser's local time, sent as an instant.
  const [pointAt, setPointAt] = useState('');
  const at = pointAt ? new Date(pointAt) : null;
  const point: PointChoice | null =
    kind === 'planned' || pointKind === 'latest'
      ? { choice: 'latest' }
      : pointKind === 'latest-app-consistent'
        ? { choice: 'latest-app-consistent' }
        : at && !Number.isNaN(at.getTime())
          ? { choice: 'at-or-before', at: at.toISOString() }
          : null;
  const input = {
    pattern: pattern.trim(),
    ...(tenantId ? { tenantId } : {}),
    kind,
    point: point ?? { choice: 'latest' as const },
  };
  const [asked, setAsked] = useState<typeof input | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<PatternResult | null>(null);
  const preview = useQuery(
    trpc.replication.previewFailoverByPattern.queryOptions(asked ?? input, { enabled: asked !== null }),
  );
  const failover = useMutation(
    trpc.replication.failoverByPattern.mutationOptions({
      onSuccess: (out) => {
        setResult(out);
        setAsked(null);
        // The previews said what was true before: none of them may be shown (or acted on) again.
        queryClient.removeQueries({ queryKey: trpc.replication.previewFailoverByPattern.pathKey() });
        setConfirming(false);
        return queryClient.invalidateQueries(trpc.replication.pathFilter());
      },
    }),
  );
  // Acting needs a fresh preview of exactly what is in the form now.
  const current = asked !== null && sameInput(asked, input) && preview.data !== undefined && !preview.isFetching;
  const hit = current ? (preview.data?.items.filter((i) => i.ok) ?? []) : [];
  const text = FAILOVER_TEXT[kind];
  const body = text.body.replace('{point}', POINT_TEXT[input.point.choice].words);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!input.pattern || point === null) return;
    setResult(null);
    if (asked && sameInput(asked, input)) void preview.refetch();
    else setAsked(input);
  }

  return (
    <Card data-testid="failover-by-pattern">
      <CardHeader
        title="Fail over by pattern"
        description="Every replicated VM whose name matches; test and unplanned failovers start from each VM's recovery point you choose (the latest, the latest application-consistent, or the newest at or before a time). Preview first, then confirm."
      />
      <CardBody className="flex flex-col gap-3">
        <form className="flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
          <PatternField id={`${area}-failover-pattern`} value={pattern} onChange={setPattern} />
          {area === 'admin' ? (
            <TenantPicker id="failover-pattern-tenant" value={tenantId} onChange={setTenantId} />
          ) : null}
          <Field label="Failover" htmlFor={`${area}-failover-kind`}>
            <Select
              id={`${area}-failover-kind`}
              value={kind}
              onChange={(e) =>
                setKind((['test', 'planned', 'unplanned'] as const).find((k) => k === e.target.value) ?? 'test')
              }
            >
              {(['test', 'planned', 'unplanned'] as const).map((k) => (
                <option key={k} value={k}>
                  {FAILOVER_TEXT[k].label}
                </option>
              ))}
            </Select>
          </Field>
          {kind === 'planned' ? null : (
            <Field label="Recovery point" htmlFor={`${area}-failover-point`}>
              <Select
                id={`${area}-failover-point`}
                value={pointKind}
                onChange={(e) =>
                  setPointKind(
                    (['latest', 'latest-app-consistent', 'at-or-before'] as const).find((k) => k === e.target.value) ??
                      'latest',
                  )
                }
              >
                {(['latest', 'latest-app-consistent', 'at-or-before'] as const).map((k) => (
                  <option key={k} value={k}>
                    {POINT_TEXT[k].label}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          {kind !== 'planned' && pointKind === 'at-or-before' ? (
            <Field label="At or before (your time)" htmlFor={`${area}-failover-point-at`}>
              <Input
                id={`${area}-failover-point-at`}
                type="datetime-local"
                value={pointAt}
                onChange={(e) => setPointAt(e.target.value)}
              />
            </Field>
          ) : null}
          <Button type="submit" loading={preview.isFetching} disabled={!input.pattern || point === null}>
            Preview
          </Button>
        </form>
        {asked ? (
          <PatternPreviewPanel
            preview={preview.data}
            error={preview.error}
            loading={preview.isFetching}
            verb={FAILOVER_TEXT[asked.kind].verb}
            testId="failover-pattern-preview"
          />
        ) : null}
        {asked && !sameInput(asked, input) ? (
          <p className="text-[12.5px] text-muted">The form changed since this preview: preview again to act.</p>
        ) : null}
        {current ? (
          <div className="flex gap-2">
            <Button
              variant={kind === 'unplanned' ? 'danger' : 'primary'}
              icon={<Repeat />}
              disabled={hit.length === 0}
              onClick={() => setConfirming(true)}
            >
              {hit.length === 0
                ? 'Nothing to fail over'
                : `${text.label} of ${hit.length} VM${hit.length === 1 ? '' : 's'}…`}
            </Button>
          </div>
        ) : null}
        {result ? <PatternResultPanel result={result} tasksBase={`/${area}/tasks`} vmsBase={`/${area}/vms`} /> : null}
      </CardBody>
      <Dialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={text.title}
        description={body}
        footer={
          <>
            <Button onClick={() => setConfirming(false)}>Keep things as they are</Button>
            <Button
              variant={kind === 'unplanned' ? 'danger' : 'primary'}
              loading={failover.isPending}
              onClick={() => failover.mutate(input)}
            >
              {text.go} ({hit.length})
            </Button>
          </>
        }
      >
        <ul className="max-h-40 overflow-y-auto text-[12.5px]" aria-label="VMs that will fail over">
          {hit.map((vm) => (
            <li key={vm.vmId} className="font-mono">
              <bdi>{vm.name}</bdi>
            </li>
          ))}
        </ul>
        {failover.isError ? <InlineError>{errorMessage(failover.error)}</InlineError> : null}
      </Dialog>
    </Card>
  );
}
