'use client';

import type { VmAction } from '@fabric/core/compute/vm.schema';
import { wildcardToRegExp } from '@fabric/core/compute/vm-state';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { CheckCircle2, X, XCircle } from 'lucide-react';
import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import { ACTION_HELP, ACTION_LABEL, ACTION_ORDER, canAct } from './vm-state';
import type { VmRow } from './vms-list-view';

export interface BulkOutcome {
  action: VmAction;
  pattern?: string;
  results: { vmId: string; name: string; ok: boolean; message: string; taskId: string | null }[];
}

/** Actions for the selected VMs: each offered when at least one selected VM allows it. */
export function BulkActionBar({
  selected,
  pending,
  onAct,
  onClear,
}: {
  selected: VmRow[];
  pending: VmAction | null;
  onAct: (action: VmAction) => void;
  onClear: () => void;
}) {
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [typed, setTyped] = useState('');
  const offered = ACTION_ORDER.map((action) => ({
    action,
    count: selected.filter((vm) => canAct(action, vm.state)).length,
  })).filter((a) => a.count > 0);
  const deletable = selected.filter((vm) => canAct('delete', vm.state));
  const word = `delete ${deletable.length}`;

  return (
    <div
      role="toolbar"
      aria-label="Actions for the selected VMs"
      className="flex flex-wrap items-center gap-2 border-b border-border bg-accent-soft/50 px-4 py-2"
    >
      <span className="text-[12.5px] font-medium text-fg tabular">{selected.length} selected</span>
      <span className="h-4 w-px bg-border" aria-hidden="true" />
      {offered.length === 0 ? (
        <span className="text-[12.5px] text-muted">No action applies to all of these states</span>
      ) : (
        offered.map(({ action, count }) => (
          <Button
            key={action}
            size="sm"
            variant={action === 'delete' ? 'danger' : 'secondary'}
            title={`${ACTION_HELP[action]} (${count} of ${selected.length} selected allow it)`}
            loading={pending === action}
            disabled={pending !== null}
            onClick={() => (action === 'delete' ? setConfirmDelete(true) : onAct(action))}
          >
            {ACTION_LABEL[action]}
            {count < selected.length ? <span className="tabular opacity-70">({count})</span> : null}
          </Button>
        ))
      )}
      <Button size="sm" variant="ghost" icon={<X />} onClick={onClear} className="ml-auto">
        Clear selection
      </Button>
      <Dialog
        open={confirmDelete}
        onClose={() => {
          setConfirmDelete(false);
          setTyped('');
        }}
        title={`Delete ${deletable.length} VM${deletable.length === 1 ? '' : 's'}?`}
        description="Their disks are deleted too. This cannot be undone."
        footer={
          <>
            <Button onClick={() => setConfirmDelete(false)}>Cancel</Button>
            <Button
              variant="danger"
              disabled={typed.trim() !== word}
              onClick={() => {
                setConfirmDelete(false);
                setTyped('');
                onAct('delete');
              }}
            >
              Delete
            </Button>
          </>
        }
      >
        <ul className="mb-3 max-h-32 overflow-y-auto text-[12.5px] text-muted">
          {deletable.map((vm) => (
            <li key={vm.id} className="font-mono">
              <bdi>{vm.name}</bdi>
            </li>
          ))}
        </ul>
        <Field label={`Type “${word}” to confirm`} htmlFor="bulk-delete-confirm">
          <Input
            id="bulk-delete-confirm"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            autoFocus
          />
        </Field>
      </Dialog>
    </div>
  );
}

/** What each VM answered to a bulk action. */
export function BulkResults({
  outcome,
  base,
  onDismiss,
}: {
  outcome: BulkOutcome;
  base: string;
  onDismiss: () => void;
}) {
  const ok = outcome.results.filter((r) => r.ok).length;
  const failed = outcome.results.length - ok;
  return (
    <Card className="mb-3 overflow-hidden" data-testid="bulk-results">
      <CardHeader
        title={`${ACTION_LABEL[outcome.action]}${outcome.pattern ? ` “${outcome.pattern}”` : ''}: ${ok} requested${failed ? `, ${failed} refused` : ''}`}
        description={outcome.results.length === 0 ? 'No VM matched.' : 'Each VM’s answer; progress shows in the table.'}
        actions={
          <Button size="sm" variant="ghost" icon={<X />} onClick={onDismiss} aria-label="Dismiss results">
            Dismiss
          </Button>
        }
      />
      {outcome.results.length > 0 ? (
        <ul className="max-h-48 divide-y divide-border overflow-y-auto text-[12.5px]">
          {outcome.results.map((r) => (
            <li key={r.vmId} className="flex items-center gap-2 px-4 py-1.5">
              {r.ok ? (
                <CheckCircle2 className="size-3.5 shrink-0 text-emerald-500" aria-label="Requested" />
              ) : (
                <XCircle className="size-3.5 shrink-0 text-danger" aria-label="Refused" />
              )}
              <Link href={`${base}/${r.vmId}`} className="font-medium text-fg hover:underline">
                <bdi>{r.name}</bdi>
              </Link>
              <span className={r.ok ? 'text-muted' : 'text-danger'}>{r.message}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

/** Like `Start-VM -Name web*`: one action on every VM whose name matches. */
export function PatternDialog({
  open,
  onClose,
  pending,
  error,
  onSubmit,
}: {
  open: boolean;
  onClose: () => void;
  pending: boolean;
  error: unknown;
  onSubmit: (input: { pattern: string; action: VmAction }) => void;
}) {
  const [pattern, setPattern] = useState('');
  const [action, setAction] = useState<VmAction>('start');
  const [confirm, setConfirm] = useState('');
  const needsConfirm = action === 'delete';
  const preview = usePatternPreview(open ? pattern.trim() : '');
  const valid =
    pattern.trim().length > 0 &&
    (!needsConfirm || confirm.trim() === pattern.trim()) &&
    (preview.matches?.length ?? 0) > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (valid) onSubmit({ pattern: pattern.trim(), action });
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Act on VMs by name pattern"
      description="Use * for any run of characters and ? for one, like Start-VM -Name web*. VMs whose state does not allow the action are reported, not changed."
    >
      {open ? (
        <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
          {error ? <InlineError>{errorMessage(error)}</InlineError> : null}
          <Field label="Name pattern" htmlFor="vm-pattern" hint="Matched case-insensitively against whole names">
            <Input
              {...describedBy('vm-pattern', undefined, true)}
              value={pattern}
              onChange={(e) => setPattern(e.target.value)}
              placeholder="web*"
              maxLength={64}
              autoFocus
              className="font-mono"
            />
          </Field>
          <PatternPreview preview={preview} action={action} />
          <Field label="Action" htmlFor="vm-pattern-action" hint={ACTION_HELP[action]}>
            <Select
              {...describedBy('vm-pattern-action', undefined, true)}
              value={action}
              onChange={(e) => setAction(ACTION_ORDER.find((a) => a === e.target.value) ?? 'start')}
            >
              {ACTION_ORDER.map((a) => (
                <option key={a} value={a}>
                  {ACTION_LABEL[a]}
                </option>
              ))}
            </Select>
          </Field>
          {needsConfirm ? (
            <Field label="Type the pattern again to confirm deleting" htmlFor="vm-pattern-confirm">
              <Input
                id="vm-pattern-confirm"
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
                autoComplete="off"
                className="font-mono"
              />
            </Field>
          ) : null}
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant={needsConfirm ? 'danger' : 'primary'} loading={pending} disabled={!valid}>
              {ACTION_LABEL[action]} matching VMs
            </Button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}

/** How many of the names a preview lists before "and N more". */
const PREVIEW_NAMES = 8;

/**
 * The VMs a pattern would hit, before anything is done: the server's name
 * search narrows to the pattern's longest literal part (its first 100, by
 * name), and core's own wildcard rule picks the matches among them.
 */
function usePatternPreview(pattern: string) {
  const trpc = useTRPC();
  const literal = pattern.split(/[*?]+/).reduce((a, b) => (b.length > a.length ? b : a), '');
  const list = useQuery(
    trpc.vms.list.queryOptions(
      { search: literal || undefined, pageSize: 100, sort: 'name', dir: 'asc' },
      { enabled: pattern.length > 0, placeholderData: keepPreviousData },
    ),
  );
  if (pattern.length === 0) return { pattern, matches: undefined, partial: false, list };
  const re = wildcardToRegExp(pattern);
  const matches = list.data?.rows.filter((vm) => re.test(vm.name));
  return { pattern, matches, partial: (list.data?.total ?? 0) > (list.data?.rows.length ?? 0), list };
}

function PatternPreview({ preview, action }: { preview: ReturnType<typeof usePatternPreview>; action: VmAction }) {
  const { matches, partial, list, pattern } = preview;
  if (pattern.length === 0) return null;
  if (list.isError) return <InlineError>Could not list the matching VMs: {errorMessage(list.error)}</InlineError>;
  if (matches === undefined) return <p className="text-[12.5px] text-muted">Finding the VMs that match…</p>;
  if (matches.length === 0) {
    return (
      <p className="text-[12.5px] text-muted" data-testid="pattern-preview" role="status">
        No VM matches <span className="font-mono text-fg">{pattern}</span>.
      </p>
    );
  }
  const acting = matches.filter((vm) => canAct(action, vm.state)).length;
  return (
    <div
      className="rounded-md border border-border px-3 py-2 text-[12.5px]"
      data-testid="pattern-preview"
      role="status"
    >
      <p className="font-medium text-fg">
        {matches.length}
        {partial ? '+' : ''} VM{matches.length === 1 ? '' : 's'} match: {acting} will{' '}
        {ACTION_LABEL[action].toLowerCase()}
        {matches.length > acting ? `, ${matches.length - acting} cannot in their state (reported, not changed)` : ''}
      </p>
      <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-0.5 text-muted">
        {matches.slice(0, PREVIEW_NAMES).map((vm) => (
          <li key={vm.id}>
            {/* Isolated: a right-to-left name would otherwise swallow the state after it. */}
            <bdi className="font-mono text-fg">{vm.name}</bdi> ({vm.state})
          </li>
        ))}
        {matches.length > PREVIEW_NAMES ? <li>and {matches.length - PREVIEW_NAMES} more</li> : null}
      </ul>
      {partial ? <p className="mt-1 text-subtle">Only the first 100 names were checked: more may match.</p> : null}
    </div>
  );
}
