'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useSession } from '@/components/shell/session';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { formatBytes, formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

const TONE: Record<string, Tone> = { normal: 'green', warning: 'amber', critical: 'red' };

function cellClass(share: number | null): string {
  if (share === null) return 'size-3 rounded-sm bg-surface-2';
  if (share >= 0.99) return 'size-3 rounded-sm bg-green-500';
  if (share >= 0.9) return 'size-3 rounded-sm bg-amber-400';
  return 'size-3 rounded-sm bg-red-500';
}

/** The provider's replica health: counts, RPO heatmap, worst lag, failing relationships, bandwidth, authorizations. */
export function ReplicationDashboard() {
  const trpc = useTRPC();
  const me = useSession();
  const dashboard = useQuery({ ...trpc.replication.dashboard.queryOptions(), refetchInterval: 5_000 });
  const [range] = useState(() => {
    const to = new Date();
    return { from: new Date(to.getTime() - 24 * 3_600_000).toISOString(), to: to.toISOString() };
  });
  const compliance = useQuery(trpc.replication.compliance.queryOptions({ ...range, bucketMinutes: 60 }));
  const d = dashboard.data;
  return (
    <>
      <PageHeader title="Replication" description="Hyper-V Replica health across every tenant" />
      {dashboard.isError ? <ErrorState error={dashboard.error} title="Could not read replica health" /> : null}
      <div className="grid grid-cols-1 gap-5">
        <Card>
          <CardHeader
            title="Health"
            description={d ? `${d.total} replicated ${d.total === 1 ? 'VM' : 'VMs'}` : 'Loading…'}
          />
          <CardBody className="flex flex-wrap gap-3" data-testid="replica-health-counts">
            {(['normal', 'warning', 'critical'] as const).map((h) => (
              <Badge key={h} tone={TONE[h]} dot>
                {h}: <span data-testid={`replica-health-${h}`}>{d?.counts[h] ?? 0}</span>
              </Badge>
            ))}
          </CardBody>
        </Card>
        <Card className="overflow-hidden">
          <CardHeader
            title="RPO compliance, last 24 hours"
            description="Share of each hour with a recovery point no older than the RPO"
          />
          <CardBody>
            {compliance.data ? (
              <div className="flex flex-col gap-1">
                <p className="text-[12.5px] text-muted">
                  Overall: {compliance.data.share === null ? '—' : `${(compliance.data.share * 100).toFixed(1)}%`}
                </p>
                <table aria-label="RPO compliance heatmap" className="border-separate border-spacing-0.5">
                  <tbody>
                    {compliance.data.vms.map((vm) => (
                      <tr key={vm.vmId} data-testid="rpo-row">
                        <th scope="row" className="w-40 truncate pr-2 text-left text-[12.5px] font-normal">
                          {vm.vmName}
                        </th>
                        {vm.buckets.map((share, i) => (
                          <td
                            key={`${vm.vmId}-${compliance.data.bucketStarts[i]}`}
                            title={`${formatDateTime(compliance.data.bucketStarts[i] ?? '')}: ${share === null ? 'not replicated' : `${Math.round(share * 100)}%`}`}
                            className={cellClass(share)}
                          />
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : compliance.isError ? (
              <InlineError>{errorMessage(compliance.error)}</InlineError>
            ) : (
              'Loading…'
            )}
          </CardBody>
        </Card>
        <Card className="overflow-hidden">
          <CardHeader title="Worst lag and failing relationships" />
          <Table aria-label="Replicated VMs by lag">
            <THead>
              <TH>VM</TH>
              <TH>State</TH>
              <TH>Health</TH>
              <TH>Lag</TH>
              <TH>Reason</TH>
            </THead>
            <tbody>
              {[
                ...(d?.failing ?? []),
                ...(d?.worstLag ?? []).filter((r) => !d?.failing.some((f) => f.id === r.id)),
              ].map((r) => (
                <TR key={r.id} data-testid="replica-row">
                  <TD>
                    <Link href={`/admin/vms/${r.vmId}`} className="text-accent hover:underline">
                      {r.vmName}
                    </Link>
                  </TD>
                  <TD>{r.state}</TD>
                  <TD>
                    <Badge tone={TONE[r.health] ?? 'neutral'} dot>
                      {r.health}
                    </Badge>
                  </TD>
                  <TD>{r.lagSeconds === null ? '—' : `${r.lagSeconds} s`}</TD>
                  <TD className="text-muted">
                    {/* A warning's reason is the health's (e.g. a silent replica host), not the last state change's. */}
                    {r.health === 'warning' ? r.healthReason : r.stateReason || r.healthReason}
                  </TD>
                </TR>
              ))}
            </tbody>
          </Table>
        </Card>
        <Card className="overflow-hidden">
          <CardHeader
            title="Bandwidth, last 24 hours"
            description="Bytes sent by replication cycles per hour (after compression)"
          />
          <Table aria-label="Replication bandwidth">
            <THead>
              <TH>Hour</TH>
              <TH>Cycles</TH>
              <TH>Sent</TH>
              <TH>Changed</TH>
            </THead>
            <tbody>
              {(d?.bandwidth ?? []).map((b) => (
                <TR key={b.hour}>
                  <TD>{formatDateTime(b.hour)}</TD>
                  <TD>{b.cycles}</TD>
                  <TD>{formatBytes(b.bytesSent)}</TD>
                  <TD>{formatBytes(b.bytesLogical)}</TD>
                </TR>
              ))}
            </tbody>
          </Table>
        </Card>
        {me.role === 'provider-admin' ? <Authorizations /> : null}
      </div>
    </>
  );
}

function Authorizations() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.replication.authorizations.list.queryOptions());
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions({ pageSize: 100 }));
  const [form, setForm] = useState({ replicaClusterId: '', tenantId: '', storagePool: '' });
  const refresh = () => queryClient.invalidateQueries(trpc.replication.authorizations.list.queryFilter());
  const create = useMutation(trpc.replication.authorizations.create.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.replication.authorizations.delete.mutationOptions({ onSuccess: refresh }));
  const clusterName = (id: string) => clusters.data?.find((c) => c.id === id)?.name ?? id;
  const tenantName = (id: string) => tenants.data?.find((t) => t.id === id)?.name ?? id;
  const hostName = (id: string) => hosts.data?.rows.find((h) => h.id === id)?.name ?? id;
  // The cluster picked, or the first one offered: an admin chooses by name, never types an id.
  const replicaClusterId = form.replicaClusterId || clusters.data?.[0]?.id || '';
  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Replica authorizations"
        description="Which tenants and primary clusters may replicate to a cluster, into which storage pool"
      />
      <Table aria-label="Replica authorizations">
        <THead>
          <TH>Replica cluster</TH>
          <TH>Host</TH>
          <TH>Tenant</TH>
          <TH>Primary cluster</TH>
          <TH>Storage pool</TH>
          <TH> </TH>
        </THead>
        <tbody>
          {(list.data ?? []).map((a) => (
            <TR key={a.id}>
              <TD>{clusterName(a.replicaClusterId)}</TD>
              <TD>{a.replicaHostId ? hostName(a.replicaHostId) : 'any'}</TD>
              <TD>{a.tenantId ? tenantName(a.tenantId) : 'any'}</TD>
              <TD>{a.primaryClusterId ? clusterName(a.primaryClusterId) : 'any'}</TD>
              <TD>{a.storagePool}</TD>
              <TD>
                <Button size="sm" variant="ghost" onClick={() => remove.mutate({ id: a.id })}>
                  Revoke
                </Button>
              </TD>
            </TR>
          ))}
        </tbody>
      </Table>
      <CardBody>
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({
              replicaClusterId,
              tenantId: form.tenantId || null,
              storagePool: form.storagePool,
            });
          }}
        >
          <Field label="Replica cluster" htmlFor="auth-cluster">
            <Select
              id="auth-cluster"
              value={replicaClusterId}
              onChange={(e) => setForm({ ...form, replicaClusterId: e.target.value })}
            >
              {(clusters.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Tenant" htmlFor="auth-tenant">
            <Select
              id="auth-tenant"
              value={form.tenantId}
              onChange={(e) => setForm({ ...form, tenantId: e.target.value })}
            >
              <option value="">Any tenant</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Storage pool" htmlFor="auth-pool">
            <Input
              id="auth-pool"
              value={form.storagePool}
              onChange={(e) => setForm({ ...form, storagePool: e.target.value })}
            />
          </Field>
          <Button type="submit" variant="primary" loading={create.isPending} disabled={!replicaClusterId}>
            Authorize
          </Button>
        </form>
        {create.isError ? <InlineError>{errorMessage(create.error)}</InlineError> : null}
      </CardBody>
    </Card>
  );
}
