'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertTriangle, KeyRound, Plus } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { CopyField } from '@/components/ui/copy-button';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { RelativeTime } from '@/components/ui/relative-time';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { formatDateTime, formatUntil } from '@/lib/format';
import { useNow } from '@/lib/use-now';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Token = RouterOutputs['tokens']['list'][number];
type CreatedToken = RouterOutputs['tokens']['create'];

const STATUS_TONE: Record<Token['status'], Tone> = {
  active: 'green',
  used: 'blue',
  expired: 'neutral',
  revoked: 'red',
};

// Common lifetimes; the API accepts 5 minutes to 7 days.
const TTL_CHOICES = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 8 * 60, label: '8 hours' },
  { minutes: 24 * 60, label: '24 hours' },
  { minutes: 7 * 24 * 60, label: '7 days' },
] as const;

export function TokensPanel({ cluster }: { cluster: { id: string; name: string } }) {
  const trpc = useTRPC();
  const tokens = useQuery(trpc.tokens.list.queryOptions({ clusterId: cluster.id }));
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Token | null>(null);

  return (
    <Card className="overflow-hidden">
      <CardHeader
        title={`Registration tokens · ${cluster.name}`}
        description="A host joins this cluster by starting its agent with a one-time token."
        actions={
          <Button variant="primary" size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
            Create token
          </Button>
        }
      />
      {tokens.isPending ? (
        <TableSkeleton rows={3} columns={5} />
      ) : tokens.isError ? (
        <ErrorState
          error={tokens.error}
          title="Could not load tokens"
          onRetry={() => void tokens.refetch()}
          retrying={tokens.isFetching}
        />
      ) : tokens.data.length === 0 ? (
        <EmptyState
          icon={<KeyRound />}
          title="No registration tokens"
          description="Create a token, then run the agent command it comes with on the new host."
          action={
            <Button size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
              Create token
            </Button>
          }
        />
      ) : (
        <TokenTable tokens={tokens.data} onRevoke={setRevoking} />
      )}
      <CreateTokenDialog cluster={cluster} open={creating} onClose={() => setCreating(false)} />
      <RevokeDialog token={revoking} clusterId={cluster.id} onClose={() => setRevoking(null)} />
    </Card>
  );
}

function TokenTable({ tokens, onRevoke }: { tokens: Token[]; onRevoke: (token: Token) => void }) {
  const now = useNow();
  return (
    <Table aria-label="Registration tokens">
      <THead>
        <TH>Token</TH>
        <TH>Label</TH>
        <TH>Status</TH>
        <TH>Expires</TH>
        <TH>Used by</TH>
        <TH>Created</TH>
        <TH>
          <span className="sr-only">Actions</span>
        </TH>
      </THead>
      <tbody>
        {tokens.map((token) => (
          <TR key={token.id}>
            <TD className="font-mono text-[12px]">{token.prefix}…</TD>
            <TD className="max-w-48 truncate">{token.label || <span className="text-subtle">—</span>}</TD>
            <TD>
              <Badge tone={STATUS_TONE[token.status]}>{token.status}</Badge>
            </TD>
            <TD className="text-muted tabular" title={formatDateTime(token.expiresAt)}>
              {token.status === 'active' && now > 0
                ? formatUntil(token.expiresAt, now)
                : formatDateTime(token.expiresAt)}
            </TD>
            <TD className="text-muted">
              {token.usedByHostName ? (
                <span className="text-fg">{token.usedByHostName}</span>
              ) : (
                <span className="text-subtle">—</span>
              )}
            </TD>
            <TD className="text-muted tabular">
              <RelativeTime value={token.createdAt} />
            </TD>
            <TD className="text-right">
              {token.status === 'active' ? (
                <Button
                  size="sm"
                  variant="ghost"
                  className="text-danger"
                  onClick={() => onRevoke(token)}
                  aria-label={`Revoke token ${token.prefix}`}
                >
                  Revoke
                </Button>
              ) : null}
            </TD>
          </TR>
        ))}
      </tbody>
    </Table>
  );
}

function CreateTokenDialog({
  cluster,
  open,
  onClose,
}: {
  cluster: { id: string; name: string };
  open: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [label, setLabel] = useState('');
  const [ttlMinutes, setTtlMinutes] = useState(60);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (token) => {
        setCreated(token);
        await queryClient.invalidateQueries(trpc.tokens.list.queryFilter({ clusterId: cluster.id }));
      },
    }),
  );
  const errors = create.isError ? fieldErrors(create.error) : {};
  const formError = create.isError && Object.keys(errors).length === 0 ? errorMessage(create.error) : null;

  function close() {
    setLabel('');
    setTtlMinutes(60);
    setCreated(null);
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({ clusterId: cluster.id, label: label || undefined, ttlMinutes });
  }

  if (created) {
    return (
      <Dialog
        open={open}
        onClose={close}
        size="lg"
        title="Token created"
        description={`Registers one host into ${cluster.name}. Expires ${formatDateTime(created.expiresAt)}.`}
      >
        <div className="flex flex-col gap-4">
          <div className="flex items-start gap-2 rounded-md border border-amber-500/30 bg-amber-50 px-3 py-2 text-[12.5px] text-amber-900 dark:bg-amber-400/10 dark:text-amber-200">
            <AlertTriangle className="mt-px size-3.5 shrink-0" aria-hidden="true" />
            <span>Copy it now. The token is shown only once; Fabric keeps only its hash.</span>
          </div>
          <div className="flex flex-col gap-1.5">
            <p className="text-[12.5px] font-medium">Token</p>
            <CopyField value={created.token} label="Token" />
          </div>
          <div className="flex flex-col gap-1.5">
            <p className="text-[12.5px] font-medium">Agent start command</p>
            <CopyField value={created.agentCommand} label="Agent command" wrap />
            <p className="text-[12px] text-muted">
              Run it on the host. The agent registers, receives its own credential, and the token is spent.
            </p>
          </div>
          <div className="flex justify-end">
            <Button variant="primary" onClick={close} autoFocus>
              Done
            </Button>
          </div>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Create registration token"
      description={`For one new host in ${cluster.name}.`}
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {formError ? <InlineError>{formError}</InlineError> : null}
        <Field label="Label" htmlFor="token-label" error={errors.label} hint="Optional: who or what the token is for.">
          <Input
            {...describedBy('token-label', errors.label, true)}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="e.g. rack B4, host 12"
            autoComplete="off"
            autoFocus
          />
        </Field>
        <Field label="Expires after" htmlFor="token-ttl" error={errors.ttlMinutes}>
          <Select
            {...describedBy('token-ttl', errors.ttlMinutes)}
            value={String(ttlMinutes)}
            onChange={(e) => setTtlMinutes(Number(e.target.value))}
          >
            {TTL_CHOICES.map((c) => (
              <option key={c.minutes} value={c.minutes}>
                {c.label}
              </option>
            ))}
          </Select>
        </Field>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={create.isPending}>
            Create token
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function RevokeDialog({ token, clusterId, onClose }: { token: Token | null; clusterId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.tokens.list.queryFilter({ clusterId }));
        close();
      },
    }),
  );
  function close() {
    revoke.reset();
    onClose();
  }
  return (
    <Dialog
      open={token !== null}
      onClose={close}
      size="sm"
      title="Revoke token?"
      description={
        token ? `${token.prefix}… ${token.label ? `(${token.label}) ` : ''}can no longer register a host.` : ''
      }
    >
      <div className="flex flex-col gap-4">
        {revoke.isError ? <InlineError>{errorMessage(revoke.error)}</InlineError> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={close} autoFocus>
            Cancel
          </Button>
          <Button
            variant="danger"
            loading={revoke.isPending}
            onClick={() => {
              if (token) revoke.mutate({ id: token.id });
            }}
          >
            Revoke token
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
