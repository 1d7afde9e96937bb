import { type TraceInput, traceInput } from './network.schema';

/** The trace tool's fields as its inputs hold them. */
export interface TraceDraft {
  fromVmId: string;
  toCa: string;
  port: string;
}

export type TraceDraftErrors = Partial<Record<keyof TraceDraft, string>>;

/**
 * The trace form's text as a trace input (core's schema, every rule named), or
 * each field's error to show beside it: a port of "70000" or "http" and an
 * address of "999.1.1.1" are refused at their field, not in a banner over the card.
 */
export function parseTraceDraft(
  draft: TraceDraft,
): { ok: true; input: TraceInput } | { ok: false; errors: TraceDraftErrors } {
  const errors: TraceDraftErrors = {};
  const portText = draft.port.trim();
  let port: number | undefined;
  if (portText !== '') {
    if (/^\d+$/.test(portText)) port = Number(portText);
    else errors.port = `Port must be a whole number 1–65535, not "${portText}"`;
  }
  const result = traceInput.safeParse({
    fromVmId: draft.fromVmId,
    toCa: draft.toCa.trim(),
    protocol: 'tcp',
    kind: 'ip',
    ...(port === undefined ? {} : { port }),
  });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0]);
      if (key === 'fromVmId') errors.fromVmId ??= 'Choose the VM the packet leaves';
      else if (key === 'toCa' || key === 'port') errors[key] ??= issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !result.success) return { ok: false, errors };
  return { ok: true, input: result.data };
}

/** A VM in the From list, with its tenant: two tenants' "app-01" read "app-01 (Blue Corp)" and "app-01 (Yellow Ltd)". */
export function traceVmLabel(vm: { name: string; tenantName: string }): string {
  return `${vm.name} (${vm.tenantName})`;
}
