'use client';

import { useSyncExternalStore } from 'react';

/*
 * One shared ticking clock for every relative time on the page ("3 s ago"),
 * so a table of 100 rows costs one interval, not 100.
 */
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === undefined) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const notify of listeners) notify();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

export function useNow(): number {
  // Server snapshot is 0 so SSR never renders a time that differs from the client.
  return useSyncExternalStore(
    subscribe,
    () => now,
    () => 0,
  );
}
