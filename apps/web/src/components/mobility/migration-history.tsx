'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { type MigrationHistoryRow, useHostNames } from './migration-rows';

const STATE_TONE: Record<string, Tone> = {
  queued: 'neutral',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'amber',
};

function seconds(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(1)} s`;
}

function pause(value: number | undefined): string {
  return value === undefined ? '—' : `${Math.round(value)} ms`;
}

/**
 * Every live and cold migration (issue 12), newest first: where from and to,
 * the model's prediction beside what was observed, its task, and Cancel while
 * one runs and has not passed its final copy. Refreshes every 5 s while any runs.
 */
export function MigrationHistory() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const history = useQuery({
    ...trpc.mobility.history.queryOptions({ limit: 100 }),
    refetchInterval: (query) =>
      ((query.state.data ?? []) as unknown as MigrationHistoryRow[]).some(
        (r) => r.state === 'queued' || r.state === 'running',
      )
        ? 5_000
        : false,
  });
  const hostName = useHostNames();
  const cancel = useMutation(
    trpc.mobility.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.mobility.history.queryKey() }),
    }),
  );
  const rows = (history.data ?? []) as unknown as MigrationHistoryRow[];
  const running = rows.filter((r) => r.state === 'queued' || r.state === 'running').length;
  return (
    <>
      <PageHeader
        title="Migrations"
        description={
          history.data && rows.length
            ? `${rows.length} most recent${running ? `, ${running} in progress` : ''}: predicted and observed side by side`
            : 'Live and cold migrations: predicted and observed side by side'
        }
      />
      {history.isError ? <ErrorState error={history.error} title="Could not read the migrations" /> : null}
      {cancel.isError ? <InlineError>{errorMessage(cancel.error)}</InlineError> : null}
      <Card className="overflow-hidden">
        {history.data && rows.length === 0 ? (
          <EmptyState
            title="No migrations yet"
            description="Migrate a VM from its page, many at once by pattern below, or put a host into maintenance to evacuate it."
          />
        ) : (
          <Table aria-label="Migrations">
            <THead>
              <TH>Requested</TH>
              <TH>VM</TH>
              <TH>Tenant</TH>
              <TH>From → to</TH>
              <TH>Kind</TH>
              <TH>State</TH>
              <TH className="text-right">Predicted</TH>
              <TH className="text-right">Observed</TH>
              <TH>Task</TH>
            </THead>
            <tbody>
              {rows.map((r) => {
                const record = r.record;
                const cancellable = (r.state === 'queued' || r.state === 'running') && !record?.pastPointOfNoReturn;
                return (
                  <TR key={r.jobId}>
                    <TD className="whitespace-nowrap">{formatDateTime(r.createdAt)}</TD>
                    <TD>
                      <Link href={`/admin/vms/${r.vmId}`}>{r.vmName}</Link>
                    </TD>
                    <TD className="text-muted">{r.tenantName ?? '—'}</TD>
                    <TD className="whitespace-nowrap">
                      {record
                        ? `${hostName(record.fromHostId)} → ${record.toHostName ?? hostName(record.toHostId)}`
                        : '—'}
                    </TD>
                    <TD>{record ? (record.live ? 'live' : 'cold') : '—'}</TD>
                    <TD>
                      <Badge tone={STATE_TONE[r.state] ?? 'neutral'} dot>
                        {r.state}
                      </Badge>
                    </TD>
                    <TD className="whitespace-nowrap text-right tabular-nums">
                      {record?.predicted
                        ? `${seconds(record.predicted.totalSeconds)}, pause ${pause(record.predicted.blackoutMs)}`
                        : '—'}
                    </TD>
                    <TD className="whitespace-nowrap text-right tabular-nums">
                      {record?.observed
                        ? `${seconds(record.observed.totalSeconds)}, pause ${pause(record.observed.blackoutMs)}`
                        : '—'}
                    </TD>
                    <TD className="whitespace-nowrap">
                      <Link href={`/admin/tasks/${r.jobId}`}>Open</Link>
                      {cancellable ? (
                        <Button
                          className="ml-2"
                          size="sm"
                          loading={cancel.isPending && cancel.variables?.taskId === r.jobId}
                          onClick={() => cancel.mutate({ taskId: r.jobId })}
                        >
                          Cancel
                        </Button>
                      ) : null}
                    </TD>
                  </TR>
                );
              })}
            </tbody>
          </Table>
        )}
      </Card>
    </>
  );
}
