import { type CreateManyVmsInput, createManyVmsInput, createVmInput } from '@fabric/core/compute/vm.schema';
import type { z } from 'zod';
import { candidateOf, type Draft } from './draft';

/** Schema messages keyed by the path of the field they belong to, like `disks.1.sizeGiB` (without the `vm.` prefix). */
export type FieldErrors = Readonly<Record<string, string>>;

export type Checked = { ok: true; input: CreateManyVmsInput; errors: FieldErrors } | { ok: false; errors: FieldErrors };

/**
 * Checks the draft with core's own schemas (the ones the API applies), so the
 * limits and the messages have one source. One VM is checked as vms.create
 * takes it (its name gets no -01 suffix); more as the tier vms.createMany takes.
 */
export function checkDraft(draft: Draft): Checked {
  const candidate = candidateOf(draft);
  if (candidate.count === 1) {
    const one = createVmInput.safeParse(candidate.vm);
    return one.success ? { ok: true, input: { vm: one.data, count: 1 }, errors: {} } : failed(one.error.issues);
  }
  const many = createManyVmsInput.safeParse(candidate);
  return many.success ? { ok: true, input: many.data, errors: {} } : failed(many.error.issues);
}

function failed(issues: readonly z.core.$ZodIssue[]): Checked {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    // A tier's VM fields sit under `vm`; the form keys them as a single VM's.
    const inVm = issue.path[0] === 'vm' ? issue.path.slice(1) : issue.path;
    // An item of a list of plain values (`tags.3`) is shown at its list's one field.
    const path = typeof inVm.at(-1) === 'number' ? inVm.slice(0, -1) : inVm;
    // The first message per field: the schema lists the most basic problem first.
    errors[path.map(String).join('.')] ??= issue.message;
  }
  return { ok: false, errors };
}
