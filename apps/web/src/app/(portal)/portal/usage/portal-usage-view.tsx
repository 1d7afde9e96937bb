'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { CostChart } from '@/components/charts/cost-chart';
import { UsageCharts } from '@/components/charts/usage-charts';
import { useUsagePeriod } from '@/components/charts/usage-period';
import { MeasureCard } from '@/components/metering/measure-card';
import { useSession } from '@/components/shell/session';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';

/** My usage over time (all my VMs or one), and for a tenant admin the cost per day. */
export function PortalUsageView() {
  const me = useSession();
  const trpc = useTRPC();
  const [vmId, setVmId] = useState('');
  const { period, picker } = useUsagePeriod('7d');
  const vms = useQuery(trpc.vms.list.queryOptions({ pageSize: 100, sort: 'name' }));

  return (
    <>
      <PageHeader
        title="Usage"
        description="What your virtual machines used over time, and what it cost. Times are UTC."
      />
      <div className="flex flex-col gap-4">
        <Card>
          <CardBody className="flex flex-wrap items-end gap-4">
            {vms.isError ? (
              <InlineError>Could not load your VMs: {errorMessage(vms.error)}</InlineError>
            ) : (
              <Field label="Virtual machines" htmlFor="usage-vm" className="w-72">
                <Select id="usage-vm" value={vmId} disabled={vms.isPending} onChange={(e) => setVmId(e.target.value)}>
                  <option value="">All my VMs</option>
                  {(vms.data?.rows ?? []).map((vm) => (
                    <option key={vm.id} value={vm.id}>
                      {vm.name}
                    </option>
                  ))}
                </Select>
              </Field>
            )}
            <div className="flex flex-col gap-1.5">
              <span className="text-[12.5px] font-medium text-fg">Period</span>
              {picker}
            </div>
          </CardBody>
        </Card>
        <Card>
          <CardHeader
            title="Usage over time"
            description="Averages over each hour or day, summed over your VMs; a VM that reported nothing counts as zero"
          />
          <CardBody>
            <UsageCharts scope={vmId ? { kind: 'vm', vmId } : { kind: 'tenant' }} period={period} />
          </CardBody>
        </Card>
        <MeasureCard scope={{ kind: 'tenant' }} period={period} />
        {me.role === 'tenant-admin' ? (
          <Card>
            <CardHeader title="Cost over time" description="All your VMs, each day rated as its own bill" />
            <CardBody>
              <CostChart period={period} />
            </CardBody>
          </Card>
        ) : null}
      </div>
    </>
  );
}
