import { wildcardToRegExp } from '../compute/vm-state';
import { CoreError } from './errors';
import type { TenantScope } from './tenant-scope';
import {
  type PatternPreviewItem,
  type PatternResult,
  type PatternResultItem,
  VM_PATTERN_LIMITS,
} from './vm-pattern.schema';

export type PatternErrorCode =
  /** Acting on a pattern that matches no VM in the caller's scope (a preview answers an empty list). */
  | 'PATTERN_NO_MATCH'
  /** More VMs match than one call may hit (VM_PATTERN_LIMITS.maxVms): the message names the limit. */
  | 'PATTERN_TOO_MANY';

export class PatternError extends CoreError<PatternErrorCode> {
  readonly module = 'pattern';
}

export interface PatternVm {
  readonly id: string;
  readonly name: string;
  readonly tenantId: string;
}

/** The VMs of `scope` whose names match (VmRepository.findVmsByPattern), by name. */
export type FindVmsByPattern = (scope: TenantScope, pattern: RegExp) => Promise<readonly PatternVm[]>;

export interface PatternRequest {
  readonly pattern: string;
  readonly tenantId?: string | undefined;
}

/**
 * The caller's scope narrowed to `tenantId`: the provider may scope a pattern
 * to one tenant; a tenant stays in its own, and naming another tenant matches
 * nothing (null) — exactly as if that tenant had no VM, never a hint that it has.
 */
export function narrowScope(scope: TenantScope, tenantId: string | undefined): TenantScope | null {
  if (!tenantId) return scope;
  if (scope.kind === 'tenant') return scope.tenantId === tenantId ? scope : null;
  return { kind: 'tenant', tenantId };
}

/**
 * The VMs a pattern hits, by name (Unicode-aware `*` and `?`, case folded:
 * compute's wildcardToRegExp, the same rule as Start-VM by pattern). More than
 * the cap is refused before anything is checked or done, in a preview too, so a
 * preview never shows what the action would refuse.
 */
export async function matchPattern(
  find: FindVmsByPattern,
  scope: TenantScope,
  request: PatternRequest,
  limit: number = VM_PATTERN_LIMITS.maxVms,
): Promise<readonly PatternVm[]> {
  const narrowed = narrowScope(scope, request.tenantId);
  if (!narrowed) return [];
  const vms = await find(narrowed, wildcardToRegExp(request.pattern));
  if (vms.length > limit) {
    throw new PatternError(
      'PATTERN_TOO_MANY',
      `“${request.pattern}” matches ${vms.length.toLocaleString('en-US')} VMs; one call acts on at most ${limit}: narrow the pattern`,
    );
  }
  // People's order (case and accents folded), whatever the database's collation: previews and results alike.
  return [...vms].sort(
    (a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id),
  );
}

/** Acting needs at least one match: nothing matching is the caller's mistake, said plainly. */
export function requireMatches(vms: readonly PatternVm[], pattern: string): void {
  if (vms.length === 0) throw new PatternError('PATTERN_NO_MATCH', `No VM matches “${pattern}”`);
}

/**
 * Runs `check` for each VM and turns a refusal the operation itself would make
 * (`isRefusal`) into the VM's reason; anything else (a bug, the database gone)
 * still fails the whole call.
 */
export async function previewEach(
  vms: readonly PatternVm[],
  isRefusal: (error: unknown) => error is Error,
  check: (vm: PatternVm) => Promise<string | null>,
): Promise<PatternPreviewItem[]> {
  const items: PatternPreviewItem[] = [];
  for (const vm of vms) {
    try {
      const detail = await check(vm);
      items.push({ vmId: vm.id, name: vm.name, ok: true, reason: null, detail });
    } catch (error) {
      if (!isRefusal(error)) throw error;
      items.push({ vmId: vm.id, name: vm.name, ok: false, reason: error.message, detail: null });
    }
  }
  return items;
}

/**
 * Runs the single operation for each VM, one after the other (each its own
 * task, as when asked one by one), and reports each as started or refused.
 */
export async function actEach(
  pattern: string,
  vms: readonly PatternVm[],
  isRefusal: (error: unknown) => error is Error,
  act: (vm: PatternVm) => Promise<{ taskId: string; message: string }>,
): Promise<PatternResult> {
  const items: PatternResultItem[] = [];
  for (const vm of vms) {
    try {
      const { taskId, message } = await act(vm);
      items.push({ vmId: vm.id, name: vm.name, ok: true, message, taskId });
    } catch (error) {
      if (!isRefusal(error)) throw error;
      items.push({ vmId: vm.id, name: vm.name, ok: false, message: error.message, taskId: null });
    }
  }
  const started = items.filter((i) => i.ok).length;
  return { pattern, started, refused: items.length - started, items };
}
