'use client';

import { ROLES } from '@fabric/core/shared/roles';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Plus, Users } from 'lucide-react';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { CreateUserForm } from '@/components/users/create-user-form';
import { UsersTable } from '@/components/users/users-table';
import { useUrlState } from '@/lib/use-url-state';
import { useTRPC } from '@/trpc/client';

export function UsersView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { params, update } = useUrlState();
  const tenantId = params.get('tenant') ?? undefined;
  const users = useQuery(trpc.users.list.queryOptions({ tenantId }));
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  const [adding, setAdding] = useState(false);
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.users.list.queryFilter()),
          queryClient.invalidateQueries({ queryKey: trpc.tenants.pathKey() }),
        ]);
        setAdding(false);
        create.reset();
      },
    }),
  );

  function closeDialog() {
    setAdding(false);
    create.reset();
  }

  return (
    <>
      <PageHeader
        title="Users"
        description="Everyone who can sign in: provider staff and the people of each tenant."
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setAdding(true)}>
            Add user
          </Button>
        }
      />
      <div className="mb-3 flex items-center gap-2">
        <label htmlFor="tenant-filter" className="text-[12.5px] text-muted">
          Tenant
        </label>
        <Select
          id="tenant-filter"
          value={tenantId ?? ''}
          onChange={(e) => update({ tenant: e.target.value || null })}
          className="w-56"
        >
          <option value="">All users</option>
          {tenants.data?.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </Select>
      </div>
      <Card className="overflow-hidden">
        {users.isPending ? (
          <TableSkeleton rows={6} columns={5} />
        ) : users.isError ? (
          <ErrorState
            error={users.error}
            title="Could not load users"
            onRetry={() => void users.refetch()}
            retrying={users.isFetching}
          />
        ) : users.data.length === 0 ? (
          <EmptyState
            icon={<Users />}
            title={tenantId ? 'No users in this tenant' : 'No users yet'}
            action={
              <Button size="sm" icon={<Plus />} onClick={() => setAdding(true)}>
                Add user
              </Button>
            }
          />
        ) : (
          <UsersTable users={users.data} showTenant />
        )}
      </Card>
      <Dialog open={adding} onClose={closeDialog} title="Add user">
        {adding ? (
          <CreateUserForm
            roles={ROLES}
            tenants={tenants.data ?? []}
            pending={create.isPending}
            error={create.error}
            onSubmit={(user) => create.mutate(user)}
            onCancel={closeDialog}
          />
        ) : null}
      </Dialog>
    </>
  );
}
