'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { errorMessage } from '@/lib/errors';
import { formatCount } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

/**
 * The fabric MAC pool: the range every new vNIC's MAC is drawn from (unique
 * in the fabric, given back when the vNIC is deleted), how much of it is in
 * use, and a form to change it. The API checks the range and names the rule.
 */
export function MacPoolCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const pool = useQuery(trpc.network.macPool.queryOptions());
  const [draft, setDraft] = useState({ first: '', last: '' });
  useEffect(() => {
    if (pool.data) setDraft({ first: pool.data.first, last: pool.data.last });
  }, [pool.data]);
  const save = useMutation(
    trpc.network.setMacPool.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.network.macPool.queryKey() }),
    }),
  );
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ first: draft.first.trim(), last: draft.last.trim() });
  };
  return (
    <Card data-testid="mac-pool">
      <CardHeader
        title="MAC address pool"
        description={
          pool.data
            ? `${formatCount(pool.data.inUse)} of ${formatCount(pool.data.size)} addresses in use · every new network adapter takes the lowest free one`
            : 'Every new network adapter takes a MAC from this range'
        }
      />
      <CardBody>
        {pool.isError ? <InlineError>Could not load the MAC pool: {errorMessage(pool.error)}</InlineError> : null}
        <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3" aria-label="MAC address pool">
          <Field label="First MAC" htmlFor="mac-first" className="w-48">
            <Input
              id="mac-first"
              value={draft.first}
              placeholder="00-15-5D-00-00-00"
              onChange={(e) => setDraft({ ...draft, first: e.target.value })}
            />
          </Field>
          <Field label="Last MAC" htmlFor="mac-last" className="w-48">
            <Input
              id="mac-last"
              value={draft.last}
              placeholder="00-15-5D-FF-FF-FF"
              onChange={(e) => setDraft({ ...draft, last: e.target.value })}
            />
          </Field>
          <Button type="submit" disabled={save.isPending}>
            Save range
          </Button>
          {save.isError ? <InlineError>{errorMessage(save.error)}</InlineError> : null}
          {save.isSuccess ? (
            <span role="status" className="text-[12.5px] text-muted">
              Saved: new adapters draw from this range; existing ones keep their MACs
            </span>
          ) : null}
        </form>
      </CardBody>
    </Card>
  );
}
