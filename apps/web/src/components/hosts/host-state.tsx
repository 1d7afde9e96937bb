import type { HostState } from '@fabric/core/fabric/host-state';
import { Badge, type Tone, toneDotClass } from '@/components/ui/badge';

export const HOST_STATE_ORDER: readonly HostState[] = ['connected', 'suspect', 'failed', 'maintenance'];

export const HOST_STATE_TONE: Record<HostState, Tone> = {
  connected: 'green',
  suspect: 'amber',
  failed: 'red',
  maintenance: 'blue',
};

const HELP: Record<HostState, string> = {
  connected: 'Heartbeats arriving on time',
  suspect: 'Missed several heartbeats',
  failed: 'Missed too many heartbeats; treated as down',
  maintenance: 'Set aside by an administrator',
};

/** The state word itself is the badge text, so tests and screen readers read "failed", not a colour. */
export function HostStateBadge({ state }: { state: HostState }) {
  return (
    <Badge tone={HOST_STATE_TONE[state]} dot pulse={state === 'failed'} title={HELP[state]}>
      {state}
    </Badge>
  );
}

export function hostStateDot(state: HostState): string {
  return toneDotClass(HOST_STATE_TONE[state]);
}
