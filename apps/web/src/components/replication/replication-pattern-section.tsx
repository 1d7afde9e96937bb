'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useSession } from '@/components/shell/session';
import { Badge, type Tone } from '@/components/ui/badge';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { useTRPC } from '@/trpc/client';
import { EnableByPatternCard, FailoverByPatternCard } from './replication-pattern-forms';

const TONE: Record<string, Tone> = { normal: 'green', warning: 'amber', critical: 'red' };

/** The admin Replication page's pattern forms: provider administrators only (finance reads the dashboard). */
export function AdminReplicationPatterns() {
  const me = useSession();
  if (me.role !== 'provider-admin') return null;
  return (
    <div className="mt-5 grid grid-cols-1 gap-5">
      <EnableByPatternCard area="admin" />
      <FailoverByPatternCard area="admin" />
    </div>
  );
}

/** The tenant's Replication page: its replicated VMs, and enabling and failing over by pattern. */
export function PortalReplication() {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.replication.list.queryOptions(), refetchInterval: 10_000 });
  return (
    <>
      <PageHeader
        title="Replication"
        description="Copies of your VMs on another site (Hyper-V Replica): by name pattern, like web*, for many VMs at once"
      />
      <div className="grid grid-cols-1 gap-5">
        <Card className="overflow-hidden">
          <CardHeader title="Replicated VMs" description={list.data ? `${list.data.length} replicated` : 'Loading…'} />
          {list.isError ? (
            <ErrorState error={list.error} title="Could not read replication" onRetry={() => void list.refetch()} />
          ) : list.data && list.data.length === 0 ? (
            <EmptyState title="No VM is replicated yet" description="Enable replication below, or from a VM's page." />
          ) : (
            <Table aria-label="Replicated VMs">
              <THead>
                <TH>VM</TH>
                <TH>State</TH>
                <TH>Health</TH>
                <TH>Lag</TH>
              </THead>
              <tbody>
                {(list.data ?? []).map((r) => (
                  <TR key={r.id} data-testid="portal-replica-row">
                    <TD>
                      <Link href={`/portal/vms/${r.vmId}`} className="text-accent hover:underline">
                        <bdi>{r.vmName}</bdi>
                      </Link>
                    </TD>
                    <TD>{r.state}</TD>
                    <TD>
                      <Badge tone={TONE[r.health] ?? 'neutral'} dot title={r.healthReason}>
                        {r.health}
                      </Badge>
                    </TD>
                    <TD>{r.lagSeconds === null ? '—' : `${r.lagSeconds} s`}</TD>
                  </TR>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
        <EnableByPatternCard area="portal" />
        <FailoverByPatternCard area="portal" />
      </div>
    </>
  );
}
