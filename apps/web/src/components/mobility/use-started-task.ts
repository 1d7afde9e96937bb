'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { isActive } from '@/components/tasks/task-labels';
import { useTRPC } from '@/trpc/client';

/** How often a card reads the task it started while that runs. */
const POLL_MS = 1_000;

/**
 * The task a card started (a migration, a storage move): read every second
 * while it runs, and `onEnd` once when it has ended, so the card (and the page
 * around it) read again what the task changed instead of showing the state
 * from before it.
 */
export function useStartedTask(taskId: string | null, onEnd: () => void) {
  const trpc = useTRPC();
  const task = useQuery({
    ...trpc.tasks.get.queryOptions({ id: taskId ?? '' }),
    enabled: taskId !== null,
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.state) ? false : POLL_MS),
  });
  const ended = useRef<string | null>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  const state = task.data?.state;
  useEffect(() => {
    if (!taskId || !state || isActive(state) || ended.current === taskId) return;
    ended.current = taskId;
    onEndRef.current();
  }, [taskId, state]);
  return task;
}
