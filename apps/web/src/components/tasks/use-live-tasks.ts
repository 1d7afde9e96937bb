'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useRef } from 'react';
import type { LiveStatus } from '@/components/shell/live';
import { useSubscriptionStatus } from '@/components/shell/subscription-status';
import { useTRPC } from '@/trpc/client';

/*
 * A month close reports a step every few hundred milliseconds and a busy
 * fabric's agents report progress many times a second: reading the list again
 * at most this often keeps the panel live without a refetch per signal.
 */
const REFETCH_THROTTLE_MS = 750;

/** Polling while something runs, for when the stream is down or a signal is lost. */
export const ACTIVE_POLL_MS = 5_000;

/**
 * Subscribes to `tasks.onChange` (the server scopes it to the caller's tenant)
 * and reads the tasks on screen again, throttled. `onChange` runs with each
 * such refetch, for pages that show something a task changes (a month's
 * invoices). Returns the stream's status for a live indicator.
 */
export function useLiveTasks(onChange?: () => void): LiveStatus {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  const refetch = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: trpc.tasks.list.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.tasks.get.pathKey() });
    onChangeRef.current?.();
  }, [queryClient, trpc]);

  const onData = useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      refetch();
    }, REFETCH_THROTTLE_MS);
  }, [refetch]);

  useEffect(
    () => () => {
      if (timer.current !== undefined) clearTimeout(timer.current);
    },
    [],
  );

  const subscription = useSubscription(trpc.tasks.onChange.subscriptionOptions(undefined, { onData }));
  // Back from a drop: what changed meanwhile is unknown, so read everything again.
  return useSubscriptionStatus(true, subscription.status, refetch);
}
