import type { TaskKind } from '../tasks/task-protocol.schema';
import type { VmAction, VmState } from './vm.schema';

/**
 * The VM life cycle. An action is allowed only from some states; while its
 * task runs the VM shows a transitional state; the agent's report decides the
 * end state. Everything else is refused with the reason.
 */
interface Transition {
  from: readonly VmState[];
  /** Shown while the host works on it; null keeps the current state. */
  during: VmState | null;
  task: TaskKind;
  /** Running resources the action adds (for the running quota). */
  startsRunning: boolean;
}

export const VM_TRANSITIONS: Record<VmAction, Transition> = {
  start: { from: ['off', 'saved'], during: 'starting', task: 'vm.start', startsRunning: true },
  stop: { from: ['running'], during: 'stopping', task: 'vm.stop', startsRunning: false },
  'turn-off': {
    from: ['running', 'paused', 'starting', 'stopping'],
    during: 'stopping',
    task: 'vm.turn-off',
    startsRunning: false,
  },
  restart: { from: ['running'], during: 'starting', task: 'vm.restart', startsRunning: false },
  pause: { from: ['running'], during: null, task: 'vm.pause', startsRunning: false },
  resume: { from: ['paused'], during: null, task: 'vm.resume', startsRunning: false },
  save: { from: ['running', 'paused'], during: 'stopping', task: 'vm.save', startsRunning: false },
  delete: { from: ['off', 'saved', 'failed'], during: 'deleting', task: 'vm.delete', startsRunning: false },
};

/** Why `action` is not allowed from `state`, or null when it is. */
export function refuseAction(action: VmAction, state: VmState): string | null {
  const transition = VM_TRANSITIONS[action];
  if (transition.from.includes(state)) return null;
  const allowed = transition.from.join(', ');
  return `Cannot ${action} a VM that is ${state} (allowed when ${allowed})`;
}

/** States in which the VM holds running resources (counted by the running quota). */
export const RUNNING_STATES: readonly VmState[] = ['starting', 'running', 'paused', 'stopping'];

/** The end state after the host reports success for a task; null: the VM is gone. */
export function stateAfterSuccess(
  task: TaskKind,
  reported: 'off' | 'running' | 'paused' | 'saved' | null,
): VmState | null {
  if (task === 'vm.delete') return null;
  if (reported) return reported;
  switch (task) {
    case 'vm.create':
    case 'vm.stop':
    case 'vm.turn-off':
      return 'off';
    case 'vm.start':
    case 'vm.restart':
    case 'vm.resume':
      return 'running';
    case 'vm.pause':
      return 'paused';
    case 'vm.save':
      return 'saved';
    default:
      // Kinds beyond vm.* (replica.*, ...) do not move the VM's state (agent-task-queue.ts): it stays as reported.
      return 'off';
  }
}

/**
 * The state after a failed task: what the host says the VM is, or `failed`
 * when it could not say (the VM needs attention; the reason is kept).
 */
export function stateAfterFailure(task: TaskKind, reported: 'off' | 'running' | 'paused' | 'saved' | null): VmState {
  if (reported) return reported;
  return task === 'vm.create' ? 'failed' : 'failed';
}

/**
 * `web*` → a case-insensitive RegExp for the whitepaper's `Start-VM -Name web*`
 * wildcard: `*` any run of characters, `?` exactly one. In Unicode mode, so `?`
 * is one character of any script (not half of a surrogate pair) and case folds
 * in every script (`ВЕБ*` finds `веб-01`).
 *
 * Built so that it cannot backtrack: a plain translation (`*` → `.*`) made
 * `*****…!` or `*a*a*a…` take time exponential in the stars against a short
 * name, and one tenant's 64-character pattern held the API's event loop for
 * 22 minutes. Here the text between stars is found at its first place (inside
 * a lookahead, which the engine never re-enters: an atomic group), which is
 * always the right place for a wildcard since each piece has a fixed length;
 * only the last star may give back characters, to let the last piece end the
 * name. So matching costs at most the name's length times the pattern's.
 */
export function wildcardToRegExp(pattern: string): RegExp {
  const piece = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.');
  const pieces = pattern.split('*');
  if (pieces.length === 1) return new RegExp(`^${piece(pattern)}$`, 'iu');
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const found = middle.map((p, i) => `(?=(.*?${piece(p)}))\\${i + 1}`).join('');
  return new RegExp(`^${piece(first)}${found}.*${piece(last)}$`, 'iu');
}
