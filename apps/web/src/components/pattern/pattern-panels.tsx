'use client';

import type { PatternPreview, PatternResult } from '@fabric/core/shared/vm-pattern.schema';
import { CheckCircle2, CircleSlash, XCircle } from 'lucide-react';
import Link from 'next/link';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';

/** The longest pattern the API accepts (VM_PATTERN_LIMITS.length): the field stops there too. */
const PATTERN_MAX = 64;

/** The name pattern of a pattern form: `*` any run, `?` one character, case folded, like Start-VM -Name web*. */
export function PatternField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field
      label="VM name pattern"
      htmlFor={id}
      hint="* for any run of characters, ? for one; matched case-insensitively against whole names"
    >
      <Input
        {...describedBy(id, undefined, true)}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="web*"
        maxLength={PATTERN_MAX}
        autoComplete="off"
        className="font-mono"
      />
    </Field>
  );
}

/**
 * What a pattern action will do before it runs: the VMs it will hit (with
 * where or how) and those that cannot, each with the reason the single
 * operation gives. Nothing matching says so; nothing is acted on then.
 */
export function PatternPreviewPanel({
  preview,
  error,
  loading,
  verb,
  testId,
}: {
  preview: PatternPreview | undefined;
  error: unknown;
  loading: boolean;
  /** "will replicate", "will fail over", "will move" */
  verb: string;
  testId: string;
}) {
  if (error) return <InlineError>Could not preview: {errorMessage(error)}</InlineError>;
  if (loading && !preview) return <p className="text-[12.5px] text-muted">Checking each matching VM…</p>;
  if (!preview) return null;
  const hit = preview.items.filter((i) => i.ok);
  const cannot = preview.items.filter((i) => !i.ok);
  if (preview.items.length === 0) {
    return (
      <p className="text-[12.5px] text-muted" role="status" data-testid={testId}>
        No VM matches <span className="font-mono text-fg">{preview.pattern}</span>: nothing would be done.
      </p>
    );
  }
  return (
    <div className="rounded-md border border-border text-[12.5px]" role="status" data-testid={testId}>
      <p className="border-b border-border px-3 py-2 font-medium text-fg">
        {preview.items.length === 1 ? '1 VM matches' : `${preview.items.length} VMs match`}: {hit.length} {verb}
        {cannot.length ? `, ${cannot.length} cannot (left as ${cannot.length === 1 ? 'it is' : 'they are'})` : ''}
      </p>
      <ul className="max-h-64 divide-y divide-border overflow-y-auto">
        {[...hit, ...cannot].map((item) => (
          <li key={item.vmId} className="flex items-start gap-2 px-3 py-1.5" data-testid="pattern-preview-item">
            {item.ok ? (
              <CheckCircle2 className="mt-0.5 size-3.5 shrink-0 text-emerald-500" aria-label="Will be hit" />
            ) : (
              <CircleSlash className="mt-0.5 size-3.5 shrink-0 text-muted" aria-label="Cannot" />
            )}
            {/* Isolated: a right-to-left name would otherwise swallow the reason after it. */}
            <bdi className="shrink-0 font-mono font-medium text-fg">{item.name}</bdi>
            <span className={item.ok ? 'text-muted' : 'text-fg'}>{item.ok ? item.detail : item.reason}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What each VM answered when the action ran: started (its task) or refused (why); refused ones are unchanged. */
export function PatternResultPanel({
  result,
  tasksBase,
  vmsBase,
}: {
  result: PatternResult;
  tasksBase: string;
  vmsBase: string;
}) {
  return (
    <div className="rounded-md border border-border text-[12.5px]" role="status" data-testid="pattern-result">
      <p className="border-b border-border px-3 py-2 font-medium text-fg">
        “{result.pattern}”: {result.started} started{result.refused ? `, ${result.refused} refused` : ''}
      </p>
      <ul className="max-h-64 divide-y divide-border overflow-y-auto">
        {result.items.map((r) => (
          <li key={r.vmId} className="flex items-start gap-2 px-3 py-1.5">
            {r.ok ? (
              <CheckCircle2 className="mt-0.5 size-3.5 shrink-0 text-emerald-500" aria-label="Started" />
            ) : (
              <XCircle className="mt-0.5 size-3.5 shrink-0 text-danger" aria-label="Refused" />
            )}
            <Link href={`${vmsBase}/${r.vmId}`} className="shrink-0 font-mono font-medium text-fg hover:underline">
              <bdi>{r.name}</bdi>
            </Link>
            <span className={r.ok ? 'text-muted' : 'text-danger'}>{r.message}</span>
            {r.taskId ? (
              <Link href={`${tasksBase}/${r.taskId}`} className="ml-auto shrink-0 underline">
                Task
              </Link>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The inputs a preview was made for, compared with the form's: acting needs a preview of what is in the form now. */
export function sameInput(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
