'use client';

import { useEffect, useRef, useState } from 'react';
import type { LiveStatus } from '@/components/shell/live';

/**
 * What the sidebar's live indicator says about a tRPC subscription, and a
 * callback when it comes back from a drop (what was missed is unknown, so the
 * caller refetches what is on screen).
 */
export function useSubscriptionStatus(
  enabled: boolean,
  subscriptionStatus: string,
  onReconnect: () => void,
): LiveStatus {
  const everConnected = useRef(false);
  const [status, setStatus] = useState<LiveStatus>('off');
  useEffect(() => {
    if (!enabled) {
      setStatus('off');
      return;
    }
    switch (subscriptionStatus) {
      case 'pending':
        everConnected.current = true;
        setStatus('live');
        break;
      case 'connecting':
        setStatus(everConnected.current ? 'reconnecting' : 'connecting');
        break;
      case 'error':
        setStatus('offline');
        break;
      default:
        setStatus('off');
    }
  }, [enabled, subscriptionStatus]);

  const reconnect = useRef(onReconnect);
  reconnect.current = onReconnect;
  const previous = useRef<LiveStatus>('off');
  useEffect(() => {
    const was = previous.current;
    if (status === 'live' && (was === 'reconnecting' || was === 'offline')) reconnect.current();
    previous.current = status;
  }, [status]);
  return status;
}
