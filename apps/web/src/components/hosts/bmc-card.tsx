'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CheckCircle2 } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { formatDateTime } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

/**
 * The host's BMC for HA fencing (docs/high-availability.md): its Redfish URL and login. With fence method
 * "bmc" a failed host is powered off through it before its VMs restart elsewhere. The password is write-only:
 * the API says whether one is set, never what it is; leaving it empty keeps the one set before.
 */
export function BmcCard({ hostId, hostName }: { hostId: string; hostName: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const bmc = useQuery(trpc.hosts.bmc.queryOptions({ hostId }));
  const [draft, setDraft] = useState<{ url: string; username: string; password: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const current = bmc.data ?? null;
  const form = draft ?? { url: current?.url ?? '', username: current?.username ?? '', password: '' };

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.hosts.bmc.queryFilter({ hostId })),
      queryClient.invalidateQueries(trpc.hosts.get.queryFilter({ id: hostId })),
    ]);
  const save = useMutation(
    trpc.hosts.setBmc.mutationOptions({
      onSuccess: async (_, input) => {
        setDraft(null);
        setNotice(input.password ? 'BMC saved; the password is stored sealed and not shown again.' : 'BMC saved.');
        await refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.hosts.removeBmc.mutationOptions({
      onSuccess: async () => {
        setDraft(null);
        setRemoving(false);
        setNotice(`BMC removed: with fence method "bmc", ${hostName} now falls back to its lease.`);
        await refresh();
      },
    }),
  );
  const errors = save.isError ? fieldErrors(save.error) : {};
  const dirty =
    draft !== null &&
    (form.url !== (current?.url ?? '') || form.username !== (current?.username ?? '') || form.password !== '');

  function edit(field: 'url' | 'username' | 'password', value: string) {
    setDraft({ ...form, [field]: value });
    setNotice(null);
    if (save.isError) save.reset();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty || save.isPending) return;
    save.mutate({
      hostId,
      url: form.url,
      username: form.username,
      ...(form.password ? { password: form.password } : {}),
    });
  }

  return (
    <Card aria-labelledby="bmc-heading">
      <CardHeader
        id="bmc-heading"
        title="BMC (out-of-band power)"
        description='Redfish endpoint for HA fencing: with fence method "bmc" a failed host is powered off through it before its VMs restart elsewhere.'
      />
      {bmc.isPending ? (
        <div className="p-4">
          <Skeleton className="h-24" />
        </div>
      ) : bmc.isError ? (
        <div className="p-4">
          <InlineError>
            Could not load the BMC: {errorMessage(bmc.error)}{' '}
            <button
              type="button"
              onClick={() => void bmc.refetch()}
              className="font-medium underline hover:no-underline"
            >
              Retry
            </button>
          </InlineError>
        </div>
      ) : (
        <form onSubmit={submit} className="flex flex-col gap-3 p-4" data-testid="bmc-form">
          <p className="text-[12px] text-muted" data-testid="bmc-status">
            {current
              ? `Set: ${current.username} at ${current.url}; password ${current.passwordSet ? 'set' : 'not set'} (changed ${formatDateTime(current.updatedAt)}).`
              : `None: with fence method "bmc", ${hostName} falls back to its lease.`}
          </p>
          {save.isError && !Object.keys(errors).length ? <InlineError>{errorMessage(save.error)}</InlineError> : null}
          {remove.isError ? <InlineError>{errorMessage(remove.error)}</InlineError> : null}
          <Field label="Redfish URL" htmlFor="bmc-url" error={errors.url} hint="http(s), e.g. https://10.0.0.5">
            <Input
              {...describedBy('bmc-url', errors.url, true)}
              value={form.url}
              maxLength={500}
              placeholder="https://10.0.0.5"
              onChange={(e) => edit('url', e.target.value)}
            />
          </Field>
          <Field label="Username" htmlFor="bmc-username" error={errors.username}>
            <Input
              {...describedBy('bmc-username', errors.username)}
              value={form.username}
              maxLength={64}
              autoComplete="off"
              onChange={(e) => edit('username', e.target.value)}
            />
          </Field>
          <Field
            label="Password"
            htmlFor="bmc-password"
            error={errors.password}
            hint={current?.passwordSet ? 'Leave empty to keep the password set before.' : 'Required the first time.'}
          >
            <Input
              {...describedBy('bmc-password', errors.password, true)}
              type="password"
              value={form.password}
              maxLength={128}
              autoComplete="new-password"
              onChange={(e) => edit('password', e.target.value)}
            />
          </Field>
          <div className="flex items-center justify-between gap-3">
            <p role="status" className="min-w-0 text-[12px] text-muted">
              {notice ? (
                <span className="flex items-start gap-1.5">
                  <CheckCircle2 className="mt-px size-3.5 shrink-0 text-emerald-500" aria-hidden="true" />
                  {notice}
                </span>
              ) : null}
            </p>
            <div className="flex gap-2">
              {current ? (
                <Button
                  type="button"
                  size="sm"
                  variant="ghost"
                  onClick={() => {
                    setNotice(null);
                    setRemoving(true);
                  }}
                >
                  Remove
                </Button>
              ) : null}
              <Button type="submit" size="sm" variant="primary" disabled={!dirty} loading={save.isPending}>
                {current ? 'Replace' : 'Save BMC'}
              </Button>
            </div>
          </div>
        </form>
      )}
      <Dialog
        open={removing}
        onClose={() => setRemoving(false)}
        title={`Remove the BMC login of ${hostName}?`}
        description={`With fence method "bmc", ${hostName}'s VMs then restart elsewhere only after its lease runs out (and never while it keeps running cut off).`}
        footer={
          <>
            <Button onClick={() => setRemoving(false)}>Cancel</Button>
            <Button variant="danger" loading={remove.isPending} onClick={() => remove.mutate({ hostId })}>
              Remove login
            </Button>
          </>
        }
      >
        {remove.isError ? <InlineError>{errorMessage(remove.error)}</InlineError> : null}
      </Dialog>
    </Card>
  );
}
