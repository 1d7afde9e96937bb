'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { MonitorCog } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Pagination } from '@/components/ui/pagination';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { RowTaskProgress } from './task-progress';
import { VmStateBadge } from './vm-state';

const PAGE_SIZE = 25;

/** The VMs a host runs, for the host detail page. */
export function HostVmsCard({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const [page, setPage] = useState(1);
  const vms = useQuery(
    trpc.vms.list.queryOptions(
      { hostId, page, pageSize: PAGE_SIZE, sort: 'name', dir: 'asc' },
      { placeholderData: keepPreviousData },
    ),
  );
  const total = vms.data?.total;
  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Virtual machines"
        description={
          total === undefined
            ? 'VMs placed on this host'
            : `${formatCount(total)} VM${total === 1 ? '' : 's'} on this host`
        }
        actions={
          <Link href={`/admin/vms`} className="text-[12.5px] font-medium text-accent hover:underline">
            All VMs
          </Link>
        }
      />
      {vms.isPending ? (
        <TableSkeleton rows={3} columns={5} />
      ) : vms.isError && !vms.data ? (
        <ErrorState
          error={vms.error}
          title="Could not load this host’s VMs"
          onRetry={() => void vms.refetch()}
          retrying={vms.isFetching}
        />
      ) : vms.data.rows.length === 0 ? (
        <EmptyState icon={<MonitorCog />} title="No VMs on this host" className="py-8" />
      ) : (
        <>
          <Table aria-label="VMs on this host">
            <THead>
              <TH>Name</TH>
              <TH>State</TH>
              <TH>Tenant</TH>
              <TH className="text-right">vCPUs</TH>
              <TH className="text-right">Memory</TH>
              <TH className="text-right">Storage</TH>
            </THead>
            <tbody>
              {vms.data.rows.map((vm) => (
                <TR key={vm.id} data-testid="host-vm-row">
                  <TD>
                    <Link
                      href={`/admin/vms/${vm.id}`}
                      className="font-medium text-fg hover:text-accent hover:underline"
                    >
                      {vm.name}
                    </Link>
                  </TD>
                  <TD className="py-1.5">
                    <VmStateBadge state={vm.state} title={vm.stateReason} haRecovery={vm.haRecovery} />
                    <RowTaskProgress vmId={vm.id} name={vm.name} />
                  </TD>
                  <TD className="text-muted">{vm.tenantName}</TD>
                  <TD className="text-right tabular">{formatCount(vm.vcpus)}</TD>
                  <TD className="text-right tabular">{formatMiB(vm.memoryMiB)}</TD>
                  <TD className="text-right tabular">{formatBytes(vm.storageBytes)}</TD>
                </TR>
              ))}
            </tbody>
          </Table>
          {vms.data.total > PAGE_SIZE ? (
            <Pagination page={page} pageSize={PAGE_SIZE} total={vms.data.total} onPage={setPage} noun="VMs" />
          ) : null}
        </>
      )}
    </Card>
  );
}
