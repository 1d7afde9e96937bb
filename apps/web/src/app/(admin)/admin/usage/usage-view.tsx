'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { CostChart } from '@/components/charts/cost-chart';
import { UsageCharts, type UsageScope } from '@/components/charts/usage-charts';
import { useUsagePeriod } from '@/components/charts/usage-period';
import { MeasureCard, PoolSelect } from '@/components/metering/measure-card';
import { useSession } from '@/components/shell/session';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Chips } from '@/components/ui/chips';
import { EmptyState } from '@/components/ui/empty-state';
import { InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';

type Kind = 'tenant' | 'pool' | 'vm' | 'host';

/**
 * Usage per tenant, VM or host over a period, and a tenant's cost per day.
 * Finance picks tenants only: listing VMs and hosts is the provider admin's.
 */
export function AdminUsageView() {
  const me = useSession();
  const provider = me.role === 'provider-admin';
  const [kind, setKind] = useState<Kind>('tenant');
  const [tenantId, setTenantId] = useState('');
  const [vmId, setVmId] = useState('');
  const [hostId, setHostId] = useState('');
  const [clusterId, setClusterId] = useState('');
  const { period, picker } = useUsagePeriod('7d');

  const scope: UsageScope | null =
    kind === 'tenant'
      ? tenantId
        ? { kind: 'tenant', tenantId }
        : null
      : kind === 'pool'
        ? null
        : kind === 'vm'
          ? vmId
            ? { kind: 'vm', vmId }
            : null
          : hostId
            ? { kind: 'host', hostId }
            : null;

  const kinds = [
    { value: 'tenant' as const, label: 'Tenant' },
    // Fabric's resource pool is a cluster (totals only: usage charts are per tenant, VM or host).
    { value: 'pool' as const, label: 'Resource pool' },
    ...(provider
      ? [
          { value: 'vm' as const, label: 'VM' },
          { value: 'host' as const, label: 'Host' },
        ]
      : []),
  ];

  return (
    <>
      <PageHeader
        title="Usage"
        description="Metered usage over time per tenant, VM or host, totals per tenant or resource pool (cluster), and a tenant's cost per day. Times are UTC."
      />
      <div className="flex flex-col gap-4">
        <Card>
          <CardBody className="flex flex-wrap items-end gap-4">
            <div className="flex flex-col gap-1.5">
              <span className="text-[12.5px] font-medium text-fg" id="usage-kind-label">
                Show usage of
              </span>
              <Chips label="Show usage of" options={kinds} value={kind} onChange={setKind} />
            </div>
            {kind === 'tenant' ? <TenantSelect value={tenantId} onChange={setTenantId} /> : null}
            {kind === 'pool' ? <PoolSelect value={clusterId} onChange={setClusterId} /> : null}
            {kind === 'vm' ? <VmSelect value={vmId} onChange={setVmId} /> : null}
            {kind === 'host' ? <HostSelect value={hostId} onChange={setHostId} /> : null}
            <div className="flex flex-col gap-1.5">
              <span className="text-[12.5px] font-medium text-fg">Period</span>
              {picker}
            </div>
          </CardBody>
        </Card>

        {kind === 'tenant' || kind === 'pool' ? (
          <MeasureCard
            scope={
              kind === 'tenant'
                ? tenantId
                  ? { kind: 'tenant', tenantId }
                  : null
                : clusterId
                  ? { kind: 'pool', clusterId }
                  : null
            }
            period={period}
          />
        ) : null}

        {kind === 'pool' ? null : (
          <Card>
            <CardHeader
              title="Usage over time"
              description={
                kind === 'host'
                  ? 'All VMs on the host, from raw samples (kept for the sample retention period)'
                  : 'Averages over each hour or day; a VM that reported nothing counts as zero'
              }
            />
            <CardBody>
              {scope ? (
                <UsageCharts scope={scope} period={period} />
              ) : (
                <EmptyState
                  title={`Choose a ${kind === 'vm' ? 'VM' : kind}`}
                  description="Usage charts appear here."
                  className="py-10"
                />
              )}
            </CardBody>
          </Card>
        )}

        {kind === 'tenant' && tenantId ? (
          <Card>
            <CardHeader title="Cost over time" description="Each day rated as its own bill, at the tenant's plan" />
            <CardBody>
              <CostChart tenantId={tenantId} period={period} />
            </CardBody>
          </Card>
        ) : null}
      </div>
    </>
  );
}

function TenantSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const trpc = useTRPC();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  if (tenants.isError) return <InlineError>Could not load tenants: {errorMessage(tenants.error)}</InlineError>;
  return (
    <Field label="Tenant" htmlFor="usage-tenant" className="w-64">
      <Select id="usage-tenant" value={value} disabled={tenants.isPending} onChange={(e) => onChange(e.target.value)}>
        <option value="">{tenants.isPending ? 'Loading tenants…' : 'Choose a tenant'}</option>
        {(tenants.data ?? []).map((tenant) => (
          <option key={tenant.id} value={tenant.id}>
            {tenant.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}

function VmSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const trpc = useTRPC();
  const vms = useQuery(trpc.vms.list.queryOptions({ pageSize: 100, sort: 'name' }));
  if (vms.isError) return <InlineError>Could not load VMs: {errorMessage(vms.error)}</InlineError>;
  return (
    <Field
      label="VM"
      htmlFor="usage-vm"
      className="w-72"
      hint={
        vms.data && vms.data.total > vms.data.rows.length
          ? `First ${vms.data.rows.length} of ${vms.data.total} by name`
          : undefined
      }
    >
      <Select id="usage-vm" value={value} disabled={vms.isPending} onChange={(e) => onChange(e.target.value)}>
        <option value="">{vms.isPending ? 'Loading VMs…' : 'Choose a VM'}</option>
        {(vms.data?.rows ?? []).map((vm) => (
          <option key={vm.id} value={vm.id}>
            {vm.name}
            {vm.tenantName ? ` (${vm.tenantName})` : ''}
          </option>
        ))}
      </Select>
    </Field>
  );
}

function HostSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions({ pageSize: 100 }));
  if (hosts.isError) return <InlineError>Could not load hosts: {errorMessage(hosts.error)}</InlineError>;
  return (
    <Field label="Host" htmlFor="usage-host" className="w-64">
      <Select id="usage-host" value={value} disabled={hosts.isPending} onChange={(e) => onChange(e.target.value)}>
        <option value="">{hosts.isPending ? 'Loading hosts…' : 'Choose a host'}</option>
        {(hosts.data?.rows ?? []).map((host) => (
          <option key={host.id} value={host.id}>
            {host.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}
