'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/trpc/client';

/** A row of mobility.history (MigrationHistoryRow in core), as far as the console reads it. */
export interface MigrationHistoryRow {
  jobId: string;
  vmId: string;
  vmName: string;
  tenantName: string | null;
  state: string;
  createdAt: string;
  record: {
    fromHostId?: string;
    toHostId?: string;
    toHostName?: string;
    live?: boolean;
    pastPointOfNoReturn?: boolean;
    predicted?: { totalSeconds: number; blackoutMs: number } | null;
    observed?: { totalSeconds: number; blackoutMs: number };
  } | null;
}

/** The provider's hosts (up to 100, by name), for pickers and for naming a migration's ends. */
export function useHosts() {
  const trpc = useTRPC();
  return useQuery(trpc.hosts.list.queryOptions({ pageSize: 100, sort: 'name', dir: 'asc' }));
}

/** A host's name from its id; the id's start when the host is gone. */
export function useHostNames(): (id: string | undefined) => string {
  const hosts = useHosts();
  const names = new Map((hosts.data?.rows ?? []).map((h) => [h.id, h.name]));
  return (id) => (id ? (names.get(id) ?? `${id.slice(0, 8)}…`) : '—');
}
