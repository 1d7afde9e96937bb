'use client';

import { defineAddressClassInput, MAX_ADDRESS_CLASSES } from '@fabric/core/metering/address-class.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Network, Plus, Trash2 } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { useSession } from '@/components/shell/session';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Textarea } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type AddressClass = RouterOutputs['metering']['addressClasses'][number];

/**
 * Metered address classes (the whitepaper's metered port ACLs): remote CIDR
 * blocks whose traffic agents meter separately and rate cards may price.
 * Provider admins define and remove them; finance reads them.
 */
export function AddressClassesCard() {
  const trpc = useTRPC();
  const me = useSession();
  const canEdit = me.role === 'provider-admin';
  const classes = useQuery(trpc.metering.addressClasses.queryOptions());
  const [defining, setDefining] = useState(false);
  const [removing, setRemoving] = useState<AddressClass | null>(null);
  const count = classes.data?.length ?? 0;

  const defineButton = canEdit ? (
    <Button
      variant="primary"
      size="sm"
      icon={<Plus />}
      onClick={() => setDefining(true)}
      disabled={count >= MAX_ADDRESS_CLASSES}
      title={count >= MAX_ADDRESS_CLASSES ? `At most ${MAX_ADDRESS_CLASSES} classes` : undefined}
    >
      Define class
    </Button>
  ) : null;

  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Metered address classes"
        description={`Remote address classes metered per VM beside internet and datacenter (metered port ACLs), at most ${MAX_ADDRESS_CLASSES}. Rate cards may price each; an unpriced class is listed on bills but not charged.`}
        actions={defineButton}
      />
      {classes.isPending ? (
        <TableSkeleton rows={2} columns={3} />
      ) : classes.isError ? (
        <ErrorState
          error={classes.error}
          title="Could not load address classes"
          onRetry={() => void classes.refetch()}
          retrying={classes.isFetching}
        />
      ) : count === 0 ? (
        <EmptyState
          icon={<Network />}
          title="No metered address classes"
          description="Traffic is metered as internet and datacenter only. Define a class (say, storage at 10.0.0.0/8) to meter and price it separately."
          action={defineButton}
        />
      ) : (
        <Table aria-label="Metered address classes">
          <THead>
            <TH>Class</TH>
            <TH>Remote addresses</TH>
            <TH>Defined</TH>
            {canEdit ? <TH className="text-right">Actions</TH> : null}
          </THead>
          <tbody>
            {classes.data.map((c) => (
              <TR key={c.name}>
                <TD className="font-medium">{c.name}</TD>
                <TD className="tabular text-[12.5px]">{c.remoteAddresses.join(', ')}</TD>
                <TD className="tabular text-[12.5px] text-muted">{c.createdAt.toISOString().slice(0, 10)}</TD>
                {canEdit ? (
                  <TD className="text-right">
                    <Button
                      size="sm"
                      variant="ghost"
                      icon={<Trash2 />}
                      aria-label={`Remove class ${c.name}`}
                      onClick={() => setRemoving(c)}
                    >
                      Remove
                    </Button>
                  </TD>
                ) : null}
              </TR>
            ))}
          </tbody>
        </Table>
      )}
      {canEdit ? (
        <>
          <DefineClassDialog open={defining} onClose={() => setDefining(false)} />
          <RemoveClassDialog target={removing} onClose={() => setRemoving(null)} />
        </>
      ) : null}
    </Card>
  );
}

function DefineClassDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [blocks, setBlocks] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const define = useMutation(
    trpc.metering.defineAddressClass.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.metering.addressClasses.queryFilter());
        close();
      },
    }),
  );

  function close() {
    define.reset();
    setErrors({});
    setName('');
    setBlocks('');
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = {
      name: name.trim(),
      remoteAddresses: blocks
        .split(/[\s,]+/)
        .map((b) => b.trim())
        .filter(Boolean),
    };
    const parsed = defineAddressClassInput.safeParse(input);
    const next: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) next[String(issue.path[0])] ??= issue.message;
    }
    setErrors(next);
    if (parsed.success) define.mutate(parsed.data);
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Define a metered address class"
      description="Agents meter each VM's traffic to and from these addresses separately (Hyper-V: Add-VMNetworkAdapterAcl -Action Meter)."
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {define.isError ? <InlineError>{errorMessage(define.error)}</InlineError> : null}
        <Field label="Name" htmlFor="class-name" error={errors.name} hint="A slug, e.g. storage or backup">
          <Input
            {...describedBy('class-name', errors.name, true)}
            value={name}
            maxLength={32}
            autoComplete="off"
            className="w-full"
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
        </Field>
        <Field
          label="Remote addresses"
          htmlFor="class-blocks"
          error={errors.remoteAddresses}
          hint="CIDR blocks, IPv4 or IPv6, one per line or comma-separated"
        >
          <Textarea
            {...describedBy('class-blocks', errors.remoteAddresses, true)}
            value={blocks}
            rows={3}
            className="w-full tabular"
            placeholder={'10.0.0.0/8\n2001:db8::/32'}
            onChange={(e) => setBlocks(e.target.value)}
          />
        </Field>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={define.isPending}>
            Define class
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function RemoveClassDialog({ target, onClose }: { target: AddressClass | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.metering.removeAddressClass.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.metering.addressClasses.queryFilter());
        close();
      },
    }),
  );
  function close() {
    remove.reset();
    onClose();
  }
  return (
    <Dialog
      open={target !== null}
      onClose={close}
      size="sm"
      title={`Remove class ${target?.name ?? ''}?`}
      description="Agents stop metering it at their next heartbeat. A class with metered usage cannot be removed."
    >
      <div className="flex flex-col gap-4">
        {remove.isError ? <InlineError>{errorMessage(remove.error)}</InlineError> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button
            variant="danger"
            loading={remove.isPending}
            onClick={() => target && remove.mutate({ name: target.name })}
          >
            Remove class
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

/** Per-class prices in the rate card dialog: out and in per GiB, empty = not priced (not charged). */
export type AclPriceDraft = Record<string, { out: string; in: string }>;

/** The draft for the classes defined now, starting from a card's prices (or empty). */
export function aclDraftFrom(
  prices: { networkOutGiB: Record<string, string>; networkInGiB: Record<string, string> } | undefined,
  classes: readonly string[],
): AclPriceDraft {
  const draft: AclPriceDraft = {};
  for (const name of classes) {
    draft[name] = { out: prices?.networkOutGiB[name] ?? '', in: prices?.networkInGiB[name] ?? '' };
  }
  return draft;
}

/** The draft's filled prices, as a card's `networkOutGiB` / `networkInGiB` additions. */
export function aclPricesOf(draft: AclPriceDraft): { out: Record<string, string>; in: Record<string, string> } {
  const out: Record<string, string> = {};
  const inbound: Record<string, string> = {};
  for (const [name, p] of Object.entries(draft)) {
    if (p.out.trim()) out[name] = p.out.trim();
    if (p.in.trim()) inbound[name] = p.in.trim();
  }
  return { out, in: inbound };
}

export function AclPriceFields({
  draft,
  onChange,
  errors,
}: {
  draft: AclPriceDraft;
  onChange: (draft: AclPriceDraft) => void;
  errors: Record<string, string>;
}) {
  const names = Object.keys(draft).sort();
  if (names.length === 0) return null;
  return (
    <fieldset className="col-span-2 grid grid-cols-2 gap-3 border-t border-border pt-3">
      <legend className="col-span-2 pb-1 text-[12.5px] text-muted">
        Metered address classes (per GiB; leave empty to list the traffic without charging it)
      </legend>
      {names.flatMap((name) =>
        (['out', 'in'] as const).map((direction) => {
          const key = `${direction === 'out' ? 'networkOutGiB' : 'networkInGiB'}.${name}`;
          const id = `card-acl-${direction}-${name}`;
          const error = errors[key];
          return (
            <Field key={key} label={`Network ${direction} · ${name} (per GiB)`} htmlFor={id} error={error}>
              <Input
                {...describedBy(id, error)}
                inputMode="decimal"
                autoComplete="off"
                className="w-full tabular"
                placeholder="not charged"
                value={draft[name]?.[direction] ?? ''}
                onChange={(e) =>
                  onChange({
                    ...draft,
                    [name]: { out: draft[name]?.out ?? '', in: draft[name]?.in ?? '', [direction]: e.target.value },
                  })
                }
              />
            </Field>
          );
        }),
      )}
    </fieldset>
  );
}
