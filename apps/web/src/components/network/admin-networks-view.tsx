'use client';

import { parseTraceDraft, type TraceDraftErrors, traceVmLabel } from '@fabric/core/network/trace-form.schema';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import { MacPoolCard } from './mac-pool-card';

/**
 * The provider's view of tenant networks: logical networks and PA pools,
 * each host's policy version against what its agent applied (lagging hosts),
 * the latest isolation proof, the trace tool, the fabric MAC pool and switch
 * extensions.
 */
export function AdminNetworksView() {
  const trpc = useTRPC();
  const logical = useQuery(trpc.network.logicalNetworks.queryOptions());
  const hosts = useQuery({ ...trpc.network.hostPolicies.queryOptions(), refetchInterval: 3_000 });
  const isolation = useQuery({ ...trpc.network.isolation.queryOptions(), refetchInterval: 3_000 });
  const extensions = useQuery(trpc.network.extensions.queryOptions());
  const vms = useQuery(trpc.vms.list.queryOptions({ pageSize: 100, sort: 'name' }));
  const trace = useMutation(trpc.network.trace.mutationOptions());
  const [form, setForm] = useState({ fromVmId: '', toCa: '', port: '' });
  const [formErrors, setFormErrors] = useState<TraceDraftErrors>({});
  const lagging = (hosts.data ?? []).filter((h) => h.lagging);
  // The API's field errors show beside their field too; the banner is for the rest.
  const serverFieldErrors = trace.isError ? fieldErrors(trace.error) : {};
  const errors: TraceDraftErrors = {
    fromVmId: formErrors.fromVmId ?? serverFieldErrors.fromVmId,
    toCa: formErrors.toCa ?? serverFieldErrors.toCa,
    port: formErrors.port ?? serverFieldErrors.port,
  };
  const bannerError =
    trace.isError && !serverFieldErrors.fromVmId && !serverFieldErrors.toCa && !serverFieldErrors.port;

  /** An edited field's error goes with the edit (it described the old value). */
  const edit = (key: keyof typeof form, value: string) => {
    setForm({ ...form, [key]: value });
    setFormErrors({ ...formErrors, [key]: undefined });
    if (trace.isError) trace.reset();
  };

  const onTrace = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseTraceDraft(form);
    if (!parsed.ok) {
      setFormErrors(parsed.errors);
      return;
    }
    setFormErrors({});
    trace.mutate(parsed.input);
  };

  return (
    <>
      <PageHeader
        title="Networks"
        description="Provider addresses, each host's compiled policy, the isolation proof and packet traces."
      />
      <div className="flex flex-col gap-4">
        <Card>
          <CardHeader
            title="Isolation"
            description="Over every host's compiled policy: can any packet reach another VM network? Proved after every change."
          />
          <CardBody>
            {isolation.isError ? <InlineError>{errorMessage(isolation.error)}</InlineError> : null}
            {isolation.data ? (
              <div className="flex flex-col gap-2 text-[13px]" data-testid="isolation-status">
                <div className="flex items-center gap-2">
                  <Badge tone={isolation.data.ok ? 'green' : 'red'}>
                    {isolation.data.ok ? 'Isolated' : 'Violation'}
                  </Badge>
                  <span className="text-fg-muted">
                    {isolation.data.hosts} hosts, {isolation.data.ports} ports, {isolation.data.candidates} candidates
                    in {isolation.data.durationMs} ms · after “{isolation.data.trigger}” at{' '}
                    {isolation.data.at.toISOString()}
                  </span>
                </div>
                {isolation.data.violations.slice(0, 5).map((v) => (
                  <div key={`${v.from.nicId}>${v.to.nicId}`}>
                    {v.from.vmName} ({v.packet.srcCa}) → {v.to.vmName} ({v.packet.dstCa}) on {v.to.hostId}:{' '}
                    {v.hops.map((h) => h.rule).join(' → ')}
                  </div>
                ))}
              </div>
            ) : (
              <span className="text-fg-muted text-[13px]">No proof yet (no policy compiled)</span>
            )}
          </CardBody>
        </Card>
        <Card>
          <CardHeader
            title="Trace a packet"
            description="Through the switches' state as each host's agent acknowledged it, with every hop's verdict"
          />
          <CardBody className="flex flex-col gap-3">
            <form onSubmit={onTrace} className="flex flex-wrap items-end gap-3">
              <Field label="From VM" htmlFor="trace-from" className="w-60" error={errors.fromVmId}>
                <Select
                  {...describedBy('trace-from', errors.fromVmId)}
                  value={form.fromVmId}
                  onChange={(e) => edit('fromVmId', e.target.value)}
                >
                  <option value="">Choose…</option>
                  {(vms.data?.rows ?? []).map((vm) => (
                    <option key={vm.id} value={vm.id}>
                      {traceVmLabel(vm)}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field label="To address (CA)" htmlFor="trace-to" className="w-40" error={errors.toCa}>
                <Input
                  {...describedBy('trace-to', errors.toCa)}
                  value={form.toCa}
                  onChange={(e) => edit('toCa', e.target.value)}
                  maxLength={15}
                />
              </Field>
              <Field label="TCP port" htmlFor="trace-port" className="w-28" error={errors.port}>
                <Input
                  {...describedBy('trace-port', errors.port)}
                  value={form.port}
                  onChange={(e) => edit('port', e.target.value)}
                  inputMode="numeric"
                  maxLength={5}
                />
              </Field>
              <Button type="submit" disabled={!form.fromVmId || !form.toCa || trace.isPending}>
                Trace
              </Button>
            </form>
            {bannerError ? <InlineError>{errorMessage(trace.error)}</InlineError> : null}
            {trace.data ? (
              <ul className="flex flex-col gap-1 text-[13px]" data-testid="trace-hosts">
                {trace.data.hosts.map((h) => (
                  <li key={`${h.stage}-${h.hostId}`} className="flex flex-wrap items-baseline gap-2">
                    <Badge tone={h.status === 'current' ? 'green' : h.status === 'lagging' ? 'amber' : 'red'}>
                      {h.status === 'current' ? 'agent' : h.status === 'lagging' ? 'agent lags' : 'no answer'}
                    </Badge>
                    <span>
                      <strong>{h.hostName}</strong> ({h.stage === 'egress' ? 'source' : 'destination'}):{' '}
                      {hostHopText(h)}
                    </span>
                    {h.computed ? (
                      <span className="text-fg-muted">
                        · Fabric's compiled v{h.compiledVersion} would say: {h.computed.ok ? 'passes' : h.computed.rule}
                      </span>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : null}
            {trace.data ? (
              <ol className="flex flex-col gap-1 text-[13px]" data-testid="trace-hops">
                {trace.data.hops.map((h, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: hops are an ordered list without ids
                  <li key={i} className="flex gap-2">
                    <Badge tone={h.ok ? 'green' : 'red'}>{h.stage}</Badge>
                    <span>{h.rule}</span>
                    {h.detail ? <span className="text-fg-muted">({h.detail})</span> : null}
                  </li>
                ))}
                <li>
                  <strong>{trace.data.delivered ? 'Delivered' : 'Dropped'}</strong>
                  {trace.data.laggingHosts.length
                    ? ` · ${trace.data.laggingHosts.length} host(s) lag behind their policy`
                    : ''}
                </li>
              </ol>
            ) : null}
          </CardBody>
        </Card>
        <Card>
          <CardHeader
            title="Host policies"
            description={`Version compiled by Fabric against the version each agent applied · ${lagging.length} lagging`}
          />
          <CardBody>
            <Table>
              <THead>
                <TH>Host</TH>
                <TH>Version</TH>
                <TH>Applied</TH>
                <TH>Size</TH>
                <TH>Status</TH>
              </THead>
              <tbody>
                {(hosts.data ?? []).map((h) => (
                  <TR key={h.hostId}>
                    <TD>{h.hostName}</TD>
                    <TD>{h.version}</TD>
                    <TD>{h.appliedVersion}</TD>
                    <TD>{(h.bytes / 1024).toFixed(1)} KiB</TD>
                    <TD>
                      <Badge tone={h.lagging ? 'amber' : 'green'}>{h.lagging ? 'Lagging' : 'Current'}</Badge>
                    </TD>
                  </TR>
                ))}
              </tbody>
            </Table>
          </CardBody>
        </Card>
        <Card>
          <CardHeader title="Logical networks and PA pools" description="Provider addresses per cluster, on a VLAN" />
          <CardBody className="flex flex-col gap-2 text-[13px]">
            {(logical.data ?? []).map((n) => (
              <div key={n.id}>
                <strong>{n.name}</strong>:{' '}
                {n.pools.map((p) => `${p.prefix} (VLAN ${p.vlanId}, ${p.addressesInUse} in use)`).join(' · ') ||
                  'no pools'}
              </div>
            ))}
            {logical.data?.length === 0 ? <span className="text-fg-muted">No logical network yet</span> : null}
          </CardBody>
        </Card>
        <MacPoolCard />
        <Card>
          <CardHeader
            title="Switch extensions"
            description="Webhooks that see every port-policy change and may veto it (audited)"
          />
          <CardBody className="text-[13px]">
            {(extensions.data ?? []).map((x) => (
              <div key={x.id}>
                {x.name} · {x.url} · timeout {x.timeoutMs} ms · fail-{x.failurePolicy}
              </div>
            ))}
            {extensions.data?.length === 0 ? <span className="text-fg-muted">None registered</span> : null}
          </CardBody>
        </Card>
      </div>
    </>
  );
}

/** Who gave a host's verdicts on a trace, at which policy version, in words. */
function hostHopText(h: {
  status: 'current' | 'lagging' | 'no-answer';
  appliedVersion: number | null;
  compiledVersion: number;
}): string {
  if (h.status === 'current') return `traced by its agent's switch at policy v${h.appliedVersion} (the compiled one)`;
  if (h.status === 'lagging')
    return `traced by its agent's switch at policy v${h.appliedVersion}, behind the compiled v${h.compiledVersion}: this is what the host does until it applies it`;
  return `its agent did not answer in time; the verdicts below are computed by Fabric over the compiled v${h.compiledVersion}, not asked of the host`;
}
