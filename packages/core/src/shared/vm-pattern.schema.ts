import { z } from 'zod';
import { text } from './text.schema';

/**
 * Pattern forms (`Enable-VMReplication -VMName web*`, `Move-VM -Name web*`):
 * one operation on every VM whose name matches, previewed first.
 */
export const VM_PATTERN_LIMITS = {
  /** Longest pattern: a VM name is at most 64 characters, so is a pattern for one. */
  length: 64,
  /**
   * VMs one pattern call may hit. Each is its own durable task (a workflow,
   * a job row, agent tasks), started one after the other inside the request:
   * 50 keeps a call within the API's request deadline and the Tasks panel
   * readable; a broader pattern is refused with this number, to be narrowed.
   */
  maxVms: 50,
} as const;

/** The pattern and, for the provider, the tenant it is scoped to (a tenant is always scoped to its own). */
export const vmPatternFields = {
  /** A name or a wildcard pattern, like Start-VM -Name web*: `*` any run, `?` one character, case folded. */
  pattern: text('Pattern', { min: 1, max: VM_PATTERN_LIMITS.length }),
  /** Provider only: match this tenant's VMs. A tenant naming another tenant matches nothing. */
  tenantId: z.uuid({ error: 'Tenant must be an id (uuid)' }).optional(),
};

/** One matching VM in a preview: whether the operation would start for it, and why not. */
export const patternPreviewItemSchema = z.object({
  vmId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  /** Why it cannot (the single operation's own refusal), null when it will be hit. */
  reason: z.string().nullable(),
  /** What it would do: the destination, the recovery point… (null when nothing to say). */
  detail: z.string().nullable(),
});
export type PatternPreviewItem = z.infer<typeof patternPreviewItemSchema>;

export const patternPreviewSchema = z.object({
  pattern: z.string(),
  /** The cap of VMs one call may hit (VM_PATTERN_LIMITS.maxVms). */
  limit: z.number(),
  items: z.array(patternPreviewItemSchema),
});
export type PatternPreview = z.infer<typeof patternPreviewSchema>;

/** One matching VM after acting: started (its task) or refused (the reason); refused ones are unchanged. */
export const patternResultItemSchema = z.object({
  vmId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  message: z.string(),
  taskId: z.string().nullable(),
});
export type PatternResultItem = z.infer<typeof patternResultItemSchema>;

export const patternResultSchema = z.object({
  pattern: z.string(),
  started: z.number(),
  refused: z.number(),
  items: z.array(patternResultItemSchema),
});
export type PatternResult = z.infer<typeof patternResultSchema>;
