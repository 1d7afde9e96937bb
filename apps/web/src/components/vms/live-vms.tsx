'use client';

import type { VmChangeEvent } from '@fabric/core/compute/compute-repository';
import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useSyncExternalStore } from 'react';
import type { LiveStatus } from '@/components/shell/live';
import { useSubscriptionStatus } from '@/components/shell/subscription-status';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type VmList = RouterOutputs['vms']['list'];
type VmDetail = RouterOutputs['vms']['get'];

/** The latest progress of a VM's running task, as the agent reports it. */
export interface LiveTask {
  taskId: string;
  progress: number;
  message: string;
}

/*
 * Task progress changes many times a second across a tenant's VMs; it lives in
 * a tiny external store so only the progress bars re-render, not every table.
 */
const liveTasks = new Map<string, LiveTask>();
const listeners = new Set<() => void>();
let version = 0;

function publish(vmId: string, task: LiveTask | null): void {
  if (task) liveTasks.set(vmId, task);
  else liveTasks.delete(vmId);
  version++;
  for (const notify of listeners) notify();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The running task of one VM as last heard live, or null. */
export function useLiveTask(vmId: string): LiveTask | null {
  useSyncExternalStore(
    subscribe,
    () => version,
    () => 0,
  );
  return liveTasks.get(vmId) ?? null;
}

const LiveVmsContext = createContext<LiveStatus>('off');

export function useLiveVmsStatus(): LiveStatus {
  return useContext(LiveVmsContext);
}

// Cache writes are batched like the hosts stream: many progress events a
// second should not mean many refetches a second.
const FLUSH_INTERVAL_MS = 500;

/**
 * One subscription to `vms.onChange` for the console (the server scopes it to
 * the caller's tenant). State changes patch the cached rows and details at
 * once and then refetch what they may have moved (filters, pages, quota);
 * progress goes to the live task store.
 */
export function LiveVmsProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pending = useRef(new Map<string, VmChangeEvent>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const flush = useCallback(() => {
    timer.current = undefined;
    const events = [...pending.current.values()];
    pending.current.clear();
    if (events.length === 0) return;

    const byId = new Map(events.map((e) => [e.vmId, e]));
    let structural = false;
    queryClient.setQueriesData<VmList>(trpc.vms.list.queryFilter(), (old) => {
      if (!old) return old;
      let changed = false;
      const rows = old.rows.map((row) => {
        const e = byId.get(row.id);
        if (!e || e.state === 'deleted' || e.state === row.state) return row;
        changed = true;
        return { ...row, state: e.state, stateReason: e.message || row.stateReason };
      });
      return changed ? { ...old, rows } : old;
    });
    for (const e of events) {
      const key = trpc.vms.get.queryKey({ id: e.vmId });
      const detail = queryClient.getQueryData<VmDetail>(key);
      if (detail && e.state !== 'deleted') {
        const tasks = detail.tasks.map((task) =>
          task.id === e.taskId && e.progress !== null
            ? {
                ...task,
                progress: Math.max(task.progress, e.progress),
                message: e.message || task.message,
                state: task.state === 'queued' ? ('running' as const) : task.state,
              }
            : task,
        );
        queryClient.setQueryData<VmDetail>(key, { ...detail, state: e.state, tasks });
      }
      // A new state (or a finished task) changes the reason, history and quota: refetch them.
      if (!detail || e.state === 'deleted' || detail.state !== e.state || e.progress === 100) {
        structural = true;
        void queryClient.invalidateQueries(trpc.vms.get.queryFilter({ id: e.vmId }));
      }
    }
    if (structural) {
      void queryClient.invalidateQueries(trpc.vms.list.queryFilter());
      void queryClient.invalidateQueries(trpc.vms.myQuota.queryFilter());
      void queryClient.invalidateQueries(trpc.quotas.get.queryFilter());
    }
  }, [queryClient, trpc]);

  const onData = useCallback(
    (event: VmChangeEvent) => {
      if (event.taskId && event.progress !== null && event.progress < 100 && event.state !== 'deleted') {
        publish(event.vmId, { taskId: event.taskId, progress: event.progress, message: event.message });
      } else {
        publish(event.vmId, null);
      }
      pending.current.set(event.vmId, event);
      if (timer.current === undefined) timer.current = setTimeout(flush, FLUSH_INTERVAL_MS);
    },
    [flush],
  );

  useEffect(
    () => () => {
      if (timer.current !== undefined) clearTimeout(timer.current);
    },
    [],
  );

  const subscription = useSubscription(trpc.vms.onChange.subscriptionOptions(undefined, { enabled, onData }));

  const status = useSubscriptionStatus(enabled, subscription.status, () => {
    void queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() });
  });

  return <LiveVmsContext value={status}>{children}</LiveVmsContext>;
}
