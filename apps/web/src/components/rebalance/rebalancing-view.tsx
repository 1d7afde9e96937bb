'use client';

import { REBALANCE_GOALS, REBALANCE_MODES } from '@fabric/core/placement/rebalance-settings.schema';
import {
  parseRebalanceSettingsDraft,
  type RebalanceSettingsDraft,
} from '@fabric/core/placement/rebalance-settings-form.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronRight, Play, Scale, Shuffle } from 'lucide-react';
import Link from 'next/link';
import { type FormEvent, useEffect, useState } from 'react';
import { HostStateBadge } from '@/components/hosts/host-state';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatDateTime, formatPercent } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Overview = RouterOutputs['rebalance']['overview'];
type Settings = Overview['settings'];

const STATE_TONE: Record<string, Tone> = { pending: 'blue', applied: 'green', failed: 'red', superseded: 'neutral' };
const MODE_HELP: Record<Settings['mode'], string> = {
  off: 'No rounds run on a schedule; "Plan now" still previews.',
  recommend: 'Each round writes recommendations; an admin applies them.',
  automatic: 'Each round migrates its recommendations itself.',
};

/** The form's fields as text (what the inputs hold), parsed on submit by core's rules. */
type Draft = RebalanceSettingsDraft;

function draftOf(s: Settings): Draft {
  return {
    mode: s.mode,
    goal: s.goal,
    intervalMinutes: String(s.intervalMinutes),
    threshold: String(s.threshold),
    holdRounds: String(s.holdRounds),
    minImprovement: String(Math.round(s.minImprovement * 1000) / 10),
    maxMovesPerRound: String(s.maxMovesPerRound),
    consolidationMaxLoadPercent: String(s.consolidationMaxLoadPercent),
  };
}

function SettingsCard({ clusterId, settings }: { clusterId: string; settings: Settings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const [errors, setErrors] = useState<Partial<Record<keyof Settings, string>>>({});
  useEffect(() => setDraft(draftOf(settings)), [settings]);
  const save = useMutation(
    trpc.rebalance.updateSettings.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.rebalance.overview.queryKey({ clusterId }) }),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Core's rules (decimal text, then the schema's ranges), so the form says exactly what is wrong, beside the field.
    const parsed = parseRebalanceSettingsDraft(draft);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    save.mutate({ clusterId, settings: parsed.patch });
  };
  const field = (key: keyof Draft, label: string, hint: string, props: Record<string, string> = {}) => (
    <Field label={label} htmlFor={`rb-${key}`} hint={hint} error={errors[key]}>
      <Input
        {...describedBy(`rb-${key}`, errors[key], true)}
        inputMode="decimal"
        value={draft[key]}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        {...props}
      />
    </Field>
  );
  return (
    <Card>
      <CardHeader
        title="Settings"
        description="Driven by measured load (metering samples), never by what VMs reserve"
        actions={
          <Button variant="primary" size="sm" type="submit" form="rebalance-settings" loading={save.isPending}>
            Save
          </Button>
        }
      />
      <CardBody>
        <form id="rebalance-settings" onSubmit={submit} className="grid grid-cols-1 gap-4 md:grid-cols-4" noValidate>
          <Field label="Mode" htmlFor="rb-mode" hint={MODE_HELP[draft.mode]}>
            <Select
              id="rb-mode"
              value={draft.mode}
              onChange={(e) => setDraft({ ...draft, mode: e.target.value as Settings['mode'] })}
            >
              {REBALANCE_MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Goal"
            htmlFor="rb-goal"
            hint={draft.goal === 'balance' ? 'Even the hosts’ load' : 'Empty hosts so they can be powered off'}
          >
            <Select
              id="rb-goal"
              value={draft.goal}
              onChange={(e) => setDraft({ ...draft, goal: e.target.value as Settings['goal'] })}
            >
              {REBALANCE_GOALS.map((g) => (
                <option key={g} value={g}>
                  {g === 'consolidate' ? 'consolidate (power optimization)' : g}
                </option>
              ))}
            </Select>
          </Field>
          {field('intervalMinutes', 'Interval (minutes)', 'Between rounds; VMM’s default is 10')}
          {field('maxMovesPerRound', 'Moves per round at most', 'Migrations one round starts or recommends')}
          {field('threshold', 'Imbalance threshold', 'Coefficient of variation of host load; 0 is even')}
          {field('holdRounds', 'Hold (rounds)', 'Rounds in a row above the threshold before anything moves')}
          {field(
            'minImprovement',
            'Minimum improvement per move (%)',
            'Share of the load gap between its two hosts a move must close',
          )}
          {field(
            'consolidationMaxLoadPercent',
            'Consolidation ceiling (%)',
            'Consolidation fills hosts up to this measured load',
          )}
        </form>
        {save.isError ? (
          <div className="mt-3">
            <InlineError>{errorMessage(save.error)}</InlineError>
          </div>
        ) : null}
        {save.isSuccess && !save.isPending ? (
          <p role="status" className="mt-3 text-[12.5px] text-muted">
            Saved.
          </p>
        ) : null}
      </CardBody>
    </Card>
  );
}

type Round = Overview['rounds'][number];

/**
 * The round's figures in its goal's measure: consolidation fills some hosts to empty others, which
 * raises the load spread on purpose, so it is read in hosts in use; balance in imbalance (the spread).
 * Rounds stored before hosts in use was recorded fall back to the imbalance.
 */
function roundFigures(round: Round): string {
  const p = round.plan;
  if (round.goal === 'consolidate' && p.hostsInUseBefore !== undefined) {
    return `hosts in use ${p.hostsInUseBefore} → ${p.hostsInUseAfter}`;
  }
  return `imbalance (load spread) ${round.imbalanceBefore.toFixed(2)} → ${round.imbalanceAfter.toFixed(2)}`;
}

function LoadBar({ value }: { value: number }) {
  const pct = Math.max(0, Math.min(1, value)) * 100;
  return (
    <span className="flex items-center gap-2">
      <span className="h-1.5 w-24 overflow-hidden rounded bg-surface-2" aria-hidden="true">
        <span
          className={value > 0.85 ? 'block h-full bg-red-500' : 'block h-full bg-accent'}
          style={{ width: `${pct}%` }}
        />
      </span>
      <span className="tabular">{formatPercent(value)}</span>
    </span>
  );
}

export function RebalancingView({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const overview = useQuery({ ...trpc.rebalance.overview.queryOptions({ clusterId }), refetchInterval: 5_000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.rebalance.overview.queryKey({ clusterId }) });
  const runNow = useMutation(trpc.rebalance.runNow.mutationOptions({ onSuccess: refresh }));
  const applyOne = useMutation(trpc.rebalance.applyOne.mutationOptions({ onSettled: refresh }));
  const applyAll = useMutation(trpc.rebalance.applyAll.mutationOptions({ onSettled: refresh }));

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href={`/admin/clusters?cluster=${clusterId}`} className="hover:text-fg hover:underline">
        Clusters
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span>{overview.data?.clusterName ?? '…'}</span>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        Rebalancing
      </span>
    </nav>
  );
  const header = (
    <PageHeader
      title="Rebalancing"
      description="Dynamic optimization: live migrations that even out measured load, or empty hosts to power off"
      breadcrumb={breadcrumb}
      actions={
        <Button icon={<Play />} onClick={() => runNow.mutate({ clusterId })} loading={runNow.isPending}>
          Plan now
        </Button>
      }
    />
  );
  if (overview.isPending) {
    return (
      <>
        {header}
        <TableSkeleton />
      </>
    );
  }
  if (overview.isError) {
    return (
      <>
        {header}
        <ErrorState error={overview.error} title="Could not read this cluster's rebalancing" onRetry={refresh} />
      </>
    );
  }
  const { settings, rounds, recommendations } = overview.data;
  const latest = rounds[0];
  const latestRecs = latest ? recommendations.filter((r) => r.roundId === latest.id) : [];
  const pending = latestRecs.filter((r) => r.state === 'pending');
  const plan = latest?.plan;
  const consolidating = latest?.goal === 'consolidate';
  const after = new Map((plan?.hostsAfter ?? []).map((h) => [h.hostId, h]));
  const applyFailures = (applyAll.data ?? []).filter((a) => !a.ok);

  return (
    <>
      {header}
      <div className="grid grid-cols-1 gap-5">
        {runNow.isError ? <InlineError>{errorMessage(runNow.error)}</InlineError> : null}
        <SettingsCard clusterId={clusterId} settings={settings} />
        <Card>
          <CardHeader
            title="Latest round"
            description={
              latest
                ? `${latest.source === 'manual' ? 'Planned on demand' : 'Scheduled'} ${formatDateTime(latest.at)} · ${latest.goal} · ${roundFigures(latest)}`
                : undefined
            }
          />
          {latest && plan ? (
            <CardBody className="grid grid-cols-1 gap-4">
              <p data-testid="rebalance-summary" className="text-[13px]">
                {latest.summary}
              </p>
              {plan.unmeasuredVms > 0 ? (
                <p className="text-[12.5px] text-muted">
                  {plan.unmeasuredVms} VMs have no metering sample in the last interval and count as idle.
                </p>
              ) : null}
              {plan.powerOffCandidates.length ? (
                <p data-testid="rebalance-power-off" className="text-[13px]">
                  Could be powered off: {plan.powerOffCandidates.map((h) => h.hostName).join(', ')}
                  {plan.draining ? ` · ${plan.draining.hostName} is draining (${plan.draining.vmsLeft} VMs left)` : ''}
                </p>
              ) : null}
              <Table>
                <THead>
                  <TH>Host</TH>
                  <TH>State</TH>
                  <TH>VMs</TH>
                  <TH>CPU (measured)</TH>
                  <TH>Memory (measured)</TH>
                  <TH>Load now</TH>
                  <TH>Load after the moves</TH>
                </THead>
                <tbody>
                  {plan.hostsBefore.map((h) => (
                    <TR key={h.hostId}>
                      <TD>{h.hostName}</TD>
                      <TD>
                        {h.state ? <HostStateBadge state={h.state} /> : '—'}
                        {h.state && h.state !== 'connected' ? (
                          <span className="ml-2 text-[12px] text-muted">not a target</span>
                        ) : null}
                      </TD>
                      <TD className="tabular">{h.vmCount}</TD>
                      <TD>{formatPercent(h.cpu)}</TD>
                      <TD>{formatPercent(h.memory)}</TD>
                      <TD>
                        <LoadBar value={h.load} />
                      </TD>
                      <TD>
                        <LoadBar value={after.get(h.hostId)?.load ?? h.load} />
                      </TD>
                    </TR>
                  ))}
                </tbody>
              </Table>
              {plan.hostsBefore.some((h) => h.state && h.state !== 'connected') ? (
                <p data-testid="rebalance-not-targets" className="text-[12.5px] text-muted">
                  Only connected hosts take part: a host in maintenance, suspect or failed is not a target, and its VMs
                  stay where they are.
                </p>
              ) : null}
            </CardBody>
          ) : (
            <EmptyState
              icon={<Scale />}
              title="No round yet"
              description={
                settings.mode === 'off'
                  ? 'Rebalancing is off for this cluster. "Plan now" shows what it would do.'
                  : `The first round runs within ${settings.intervalMinutes} minutes, or now with "Plan now".`
              }
            />
          )}
        </Card>
        <Card>
          <CardHeader
            title="Recommendations"
            description={`Each move's what-if: the hosts' load and ${consolidating ? 'the hosts in use' : "the cluster's imbalance"} before and after, what it sends and how long it takes`}
            actions={
              <Button
                size="sm"
                variant="primary"
                icon={<Shuffle />}
                disabled={pending.length === 0}
                loading={applyAll.isPending}
                onClick={() => applyAll.mutate({ clusterId })}
              >
                Apply all ({pending.length})
              </Button>
            }
          />
          {applyOne.isError ? (
            <div className="px-4 pt-3">
              <InlineError>{errorMessage(applyOne.error)}</InlineError>
            </div>
          ) : null}
          {applyFailures.length ? (
            <div className="px-4 pt-3">
              <InlineError>{applyFailures.map((f) => `${f.vmName}: ${f.detail}`).join(' · ')}</InlineError>
            </div>
          ) : null}
          {latestRecs.length === 0 ? (
            <EmptyState
              icon={<Shuffle />}
              title="Nothing to move"
              description={latest ? latest.summary : 'Plan a round to see recommendations.'}
            />
          ) : (
            <Table>
              <THead>
                <TH>#</TH>
                <TH>VM</TH>
                <TH>From → to</TH>
                <TH>Hosts’ load</TH>
                <TH>{consolidating ? 'Hosts in use' : 'Imbalance (load spread)'}</TH>
                <TH>Sends</TH>
                <TH>Predicted</TH>
                <TH>State</TH>
                <TH>
                  <span className="sr-only">Action</span>
                </TH>
              </THead>
              <tbody>
                {latestRecs.map((r) => {
                  const w = r.whatIf;
                  return (
                    <TR key={r.id} data-testid="rebalance-recommendation">
                      <TD className="tabular">{r.position + 1}</TD>
                      <TD>{r.vmName}</TD>
                      <TD>
                        {w.fromHostName} → {w.toHostName}
                      </TD>
                      <TD className="tabular" title={w.reason}>
                        {formatPercent(w.fromLoadBefore)} → {formatPercent(w.fromLoadAfter)} ·{' '}
                        {formatPercent(w.toLoadBefore)} → {formatPercent(w.toLoadAfter)}
                      </TD>
                      <TD className="tabular">
                        {consolidating && w.hostsInUseBefore !== undefined
                          ? `${w.hostsInUseBefore} → ${w.hostsInUseAfter}`
                          : `${w.imbalanceBefore.toFixed(3)} → ${w.imbalanceAfter.toFixed(3)}`}
                      </TD>
                      <TD className="tabular">{formatBytes(w.bytesToMove)}</TD>
                      <TD className="tabular">
                        {w.predictedSeconds.toFixed(1)} s
                        {w.predictedBlackoutMs === null
                          ? ' (cold)'
                          : ` · pause ${Math.round(w.predictedBlackoutMs)} ms`}
                      </TD>
                      <TD>
                        <Badge tone={STATE_TONE[r.state] ?? 'neutral'}>{r.state}</Badge>
                        {r.taskId ? (
                          <Link href={`/admin/tasks/${r.taskId}`} className="ml-2 text-accent hover:underline">
                            Task
                          </Link>
                        ) : null}
                        {r.detail && r.state === 'failed' ? (
                          <span className="ml-2 text-[12px] text-muted">{r.detail}</span>
                        ) : null}
                      </TD>
                      <TD>
                        {r.state === 'pending' ? (
                          <Button
                            size="sm"
                            onClick={() => applyOne.mutate({ recommendationId: r.id })}
                            loading={applyOne.isPending && applyOne.variables?.recommendationId === r.id}
                            aria-label={`Apply: move ${r.vmName} to ${w.toHostName}`}
                          >
                            Apply
                          </Button>
                        ) : null}
                      </TD>
                    </TR>
                  );
                })}
              </tbody>
            </Table>
          )}
          {latest ? (
            <p className="px-4 py-3 text-[12px] text-muted">
              In all: {formatBytes(latest.plan.totalBytesToMove)} over the migration network, about{' '}
              {Math.round(latest.plan.totalPredictedSeconds)} s of migration time (at most 2 at once per host).
            </p>
          ) : null}
        </Card>
      </div>
    </>
  );
}
