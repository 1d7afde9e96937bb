'use client';

import type { HostChangeEvent } from '@fabric/core/fabric/fabric.schema';
import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef } from 'react';
import { useSubscriptionStatus } from '@/components/shell/subscription-status';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting' | 'offline';

interface LiveContextValue {
  status: LiveStatus;
  reconnect: () => void;
}

const LiveContext = createContext<LiveContextValue>({ status: 'off', reconnect: () => {} });

export function useLiveStatus(): LiveContextValue {
  return useContext(LiveContext);
}

type HostList = RouterOutputs['hosts']['list'];
type HostDetail = RouterOutputs['hosts']['get'];

// Cache writes are batched: a busy fabric sends many heartbeats a second, and
// re-rendering or refetching more than once a second helps nobody.
const FLUSH_INTERVAL_MS = 1000;

/**
 * One subscription to `hosts.onChange` for the whole console. Heartbeats patch
 * the cached rows in place; changes that can move a row between pages or
 * filters (state, inventory, registration, removal) refetch the affected
 * queries instead.
 */
export function LiveHostsProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pending = useRef(new Map<string, HostChangeEvent>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastFlush = useRef(0);

  const flush = useCallback(() => {
    timer.current = undefined;
    lastFlush.current = Date.now();
    const events = [...pending.current.values()];
    pending.current.clear();
    if (events.length === 0) return;

    const byId = new Map(events.map((e) => [e.hostId, e]));
    queryClient.setQueriesData<HostList>(trpc.hosts.list.queryFilter(), (old) => {
      if (!old) return old;
      let changed = false;
      const rows = old.rows.map((row) => {
        const e = byId.get(row.id);
        if (!e || e.kind === 'removed') return row;
        changed = true;
        return { ...row, state: e.state, lastHeartbeatAt: e.lastHeartbeatAt };
      });
      return changed ? { ...old, rows } : old;
    });
    for (const e of events) {
      if (e.kind === 'removed') continue;
      queryClient.setQueryData<HostDetail>(trpc.hosts.get.queryKey({ id: e.hostId }), (old) =>
        old ? { ...old, state: e.state, lastHeartbeatAt: e.lastHeartbeatAt } : old,
      );
    }

    const structural = events.filter((e) => e.kind !== 'heartbeat');
    if (structural.length > 0) {
      void queryClient.invalidateQueries(trpc.hosts.list.queryFilter());
      void queryClient.invalidateQueries(trpc.fabric.overview.queryFilter());
      void queryClient.invalidateQueries(trpc.clusters.list.queryFilter());
      for (const e of structural) {
        void queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: e.hostId }));
      }
    }
  }, [queryClient, trpc]);

  const onData = useCallback(
    (event: HostChangeEvent) => {
      const previous = pending.current.get(event.hostId);
      // Keep a structural kind over a later heartbeat so the refetch still happens.
      const kind = previous && previous.kind !== 'heartbeat' && event.kind === 'heartbeat' ? previous.kind : event.kind;
      pending.current.set(event.hostId, { ...event, kind });
      if (timer.current === undefined) {
        const wait = Math.max(0, lastFlush.current + FLUSH_INTERVAL_MS - Date.now());
        timer.current = setTimeout(flush, wait);
      }
    },
    [flush],
  );

  useEffect(
    () => () => {
      if (timer.current !== undefined) clearTimeout(timer.current);
    },
    [],
  );

  const subscription = useSubscription(
    trpc.hosts.onChange.subscriptionOptions(undefined, {
      enabled,
      onData,
    }),
  );

  const status = useSubscriptionStatus(enabled, subscription.status, () => {
    void queryClient.invalidateQueries({ queryKey: trpc.hosts.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.fabric.pathKey() });
  });

  const { reset } = subscription;
  const reconnect = useCallback(() => reset(), [reset]);

  return <LiveContext value={{ status, reconnect }}>{children}</LiveContext>;
}
