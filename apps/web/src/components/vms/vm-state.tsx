import { VM_STATES, type VmAction, type VmHaRecovery, type VmState } from '@fabric/core/compute/vm.schema';
import { VM_TRANSITIONS } from '@fabric/core/compute/vm-state';
import { Badge, type Tone, toneDotClass } from '@/components/ui/badge';

/** Core's life-cycle states, in their order (the list's state filter offers them so). */
export const VM_STATE_LIST = VM_STATES;

const TONE: Record<VmState, Tone> = {
  creating: 'violet',
  off: 'neutral',
  starting: 'blue',
  running: 'green',
  paused: 'amber',
  saved: 'neutral',
  stopping: 'blue',
  failed: 'red',
  deleting: 'amber',
};

/** States in which a task is under way: the badge pulses. */
const TRANSITIONAL: ReadonlySet<VmState> = new Set(['creating', 'starting', 'stopping', 'deleting']);

const HELP: Record<VmState, string> = {
  creating: 'The host is creating the VM',
  off: 'Stopped; holds no running resources',
  starting: 'Booting',
  running: 'Running',
  paused: 'Paused in memory; still holds its memory',
  saved: 'State saved to disk; holds no running resources',
  stopping: 'Shutting down or saving',
  failed: 'The last task failed; see the reason',
  deleting: 'The host is deleting the VM and its disks',
};

/** The state word is the badge text, so tests and screen readers read "running", not a colour. */
/**
 * While HA brings a VM back after its host failed, its stored state is still the one it had there
 * ("running"): the badge says where the restart stands instead, so no list shows it running.
 */
const RECOVERY: Record<VmHaRecovery, { text: string; tone: Tone; help: string }> = {
  'host-failed': {
    text: 'host failed',
    tone: 'amber',
    help: 'Its host failed: HA restarts it on another host once that host is fenced',
  },
  'waiting-capacity': {
    text: 'waiting for capacity',
    tone: 'red',
    help: 'Its host failed and no host has room for it yet: HA starts it when one has',
  },
  restarting: { text: 'restarting', tone: 'amber', help: 'Its host failed: HA is starting it on another host' },
};

export function VmStateBadge({
  state,
  title,
  haRecovery,
}: {
  state: VmState;
  title?: string;
  haRecovery?: VmHaRecovery | undefined;
}) {
  if (haRecovery) {
    const r = RECOVERY[haRecovery];
    return (
      <Badge tone={r.tone} dot pulse={haRecovery !== 'waiting-capacity'} title={r.help} className="tabular">
        <span data-testid="vm-state">{r.text}</span>
      </Badge>
    );
  }
  return (
    <Badge tone={TONE[state]} dot pulse={TRANSITIONAL.has(state)} title={title || HELP[state]} className="tabular">
      <span data-testid="vm-state">{state}</span>
    </Badge>
  );
}

export function vmStateHelp(state: VmState): string {
  return HELP[state];
}

export function vmStateDot(state: VmState): string {
  return toneDotClass(TONE[state]);
}

export function isTransitional(state: VmState): boolean {
  return TRANSITIONAL.has(state);
}

/** Display order: the usual next step first, destructive ones last. */
export const ACTION_ORDER: readonly VmAction[] = [
  'start',
  'resume',
  'stop',
  'restart',
  'pause',
  'save',
  'turn-off',
  'delete',
];

export const ACTION_LABEL: Record<VmAction, string> = {
  start: 'Start',
  stop: 'Shut down',
  'turn-off': 'Turn off',
  restart: 'Restart',
  pause: 'Pause',
  resume: 'Resume',
  save: 'Save',
  delete: 'Delete',
};

export const ACTION_HELP: Record<VmAction, string> = {
  start: 'Boot the VM (or restore its saved state)',
  stop: 'Ask the guest OS to shut down cleanly',
  'turn-off': 'Cut power at once; unsaved guest data is lost',
  restart: 'Shut down and boot again',
  pause: 'Freeze the VM in memory',
  resume: 'Continue a paused VM',
  save: 'Save memory to disk and release running resources',
  delete: 'Delete the VM and its disks',
};

export function allowedActions(state: VmState): VmAction[] {
  return ACTION_ORDER.filter((action) => canAct(action, state));
}

/** Whether core's life cycle allows `action` from `state`; the API refuses the rest with the reason. */
export function canAct(action: VmAction, state: VmState): boolean {
  return VM_TRANSITIONS[action].from.includes(state);
}
