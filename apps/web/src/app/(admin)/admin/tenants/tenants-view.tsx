'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Building2, Plus } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { formatCount, formatDate } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

export function TenantsView() {
  const trpc = useTRPC();
  const router = useRouter();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader
        title="Tenants"
        description="Customers of this datacenter. Each tenant sees only its own resources in the portal."
        actions={
          <>
            <Link href="/admin/users" className="text-[12.5px] font-medium text-accent hover:underline">
              All users
            </Link>
            <Button variant="primary" icon={<Plus />} onClick={() => setCreating(true)}>
              New tenant
            </Button>
          </>
        }
      />
      <Card className="overflow-hidden">
        {tenants.isPending ? (
          <TableSkeleton rows={5} columns={4} />
        ) : tenants.isError ? (
          <ErrorState
            error={tenants.error}
            title="Could not load tenants"
            onRetry={() => void tenants.refetch()}
            retrying={tenants.isFetching}
          />
        ) : tenants.data.length === 0 ? (
          <EmptyState
            icon={<Building2 />}
            title="No tenants yet"
            description="Create a tenant, then add its first tenant admin so they can sign in to the portal."
            action={
              <Button variant="primary" size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
                New tenant
              </Button>
            }
          />
        ) : (
          <Table aria-label="Tenants">
            <THead>
              <TH>Name</TH>
              <TH>Slug</TH>
              <TH className="text-right">Users</TH>
              <TH>Created</TH>
            </THead>
            <tbody>
              {tenants.data.map((tenant) => (
                <TR
                  key={tenant.id}
                  className="cursor-pointer"
                  onClick={(event) => {
                    if ((event.target as HTMLElement).closest('a,button')) return;
                    router.push(`/admin/tenants/${tenant.id}`);
                  }}
                >
                  {/* A long name (up to 80 characters, maybe without a space) is cut with an ellipsis, not past 1280 px. */}
                  <TD className="max-w-[22rem]">
                    <Link
                      href={`/admin/tenants/${tenant.id}`}
                      className="block truncate font-medium text-fg hover:text-accent hover:underline"
                      title={tenant.name}
                    >
                      <bdi>{tenant.name}</bdi>
                    </Link>
                  </TD>
                  <TD className="max-w-[16rem] truncate font-mono text-[12px] text-muted" title={tenant.slug}>
                    {tenant.slug}
                  </TD>
                  <TD className="text-right tabular">{formatCount(tenant.userCount)}</TD>
                  <TD className="text-muted tabular">{formatDate(tenant.createdAt)}</TD>
                </TR>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      <CreateTenantDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => router.push(`/admin/tenants/${id}`)}
      />
    </>
  );
}

function CreateTenantDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (id: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation(
    trpc.tenants.create.mutationOptions({
      onSuccess: async (tenant) => {
        await queryClient.invalidateQueries(trpc.tenants.list.queryFilter());
        setName('');
        onClose();
        onCreated(tenant.id);
      },
    }),
  );
  const errors = create.isError ? fieldErrors(create.error) : {};
  const formError = create.isError && !errors.name ? errorMessage(create.error) : null;

  function close() {
    setName('');
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({ name });
  }

  return (
    <Dialog open={open} onClose={close} title="New tenant" description="The portal address is derived from the name.">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {formError ? <InlineError>{formError}</InlineError> : null}
        <Field label="Name" htmlFor="tenant-name" error={errors.name}>
          <Input
            {...describedBy('tenant-name', errors.name)}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Blue Corp"
            autoComplete="off"
            autoFocus
          />
        </Field>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={create.isPending}>
            Create tenant
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
