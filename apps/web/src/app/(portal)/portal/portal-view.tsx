'use client';

import { ROLE_LABELS } from '@fabric/core/shared/roles';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Plus, Users } from 'lucide-react';
import type { ReactNode } from 'react';
import { useState } from 'react';
import { useSession } from '@/components/shell/session';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton } from '@/components/ui/skeleton';
import { CreateUserForm } from '@/components/users/create-user-form';
import { RoleBadge } from '@/components/users/role-badge';
import { UsersTable } from '@/components/users/users-table';
import { formatCount } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

export function PortalView() {
  const trpc = useTRPC();
  const me = useSession();
  const isAdmin = me.role === 'tenant-admin';
  const queryClient = useQueryClient();
  const overview = useQuery(trpc.portal.overview.queryOptions());
  const [adding, setAdding] = useState(false);
  const create = useMutation(
    trpc.portal.users.create.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.portal.pathKey() });
        setAdding(false);
        create.reset();
      },
    }),
  );

  function closeDialog() {
    setAdding(false);
    create.reset();
  }

  if (overview.isPending) {
    return (
      <div role="status" aria-label="Loading">
        <Skeleton className="h-6 w-56" />
        <Skeleton className="mt-2 mb-6 h-4 w-80" />
        <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} className="h-24 rounded-lg" />
          ))}
        </div>
      </div>
    );
  }
  if (overview.isError) {
    return (
      <Card>
        <ErrorState
          error={overview.error}
          title="Could not load your tenant"
          onRetry={() => void overview.refetch()}
          retrying={overview.isFetching}
        />
      </Card>
    );
  }

  const data = overview.data;
  return (
    <>
      <PageHeader
        title={data.tenant.name}
        description={`Welcome, ${data.you.name}.`}
        actions={
          isAdmin ? (
            <Button variant="primary" icon={<Plus />} onClick={() => setAdding(true)}>
              Add user
            </Button>
          ) : undefined
        }
      />
      <div className="mb-5 grid grid-cols-1 gap-4 md:grid-cols-3">
        <Tile label="Tenant">
          <p className="text-[15px] font-semibold">{data.tenant.name}</p>
          <p className="mt-0.5 font-mono text-[12px] text-muted">{data.tenant.slug}</p>
        </Tile>
        <Tile label="You">
          <p className="truncate text-[15px] font-semibold">{data.you.name}</p>
          <div className="mt-1 flex items-center gap-2 text-[12.5px] text-muted">
            <span className="truncate">{data.you.email}</span>
            <RoleBadge role={data.you.role} />
          </div>
        </Tile>
        <Tile label="People">
          <p className="text-[22px] font-semibold tracking-[-0.02em] tabular">{formatCount(data.userCount)}</p>
          <p className="text-[12px] text-muted">user{data.userCount === 1 ? '' : 's'} in this tenant</p>
        </Tile>
      </div>

      {isAdmin ? (
        <Card className="overflow-hidden" id="users">
          <CardHeader
            title="Users"
            description="People who can sign in to this tenant. Tenant admins can add others."
            actions={
              <Button size="sm" icon={<Plus />} onClick={() => setAdding(true)}>
                Add user
              </Button>
            }
          />
          {data.users.length === 0 ? (
            <EmptyState icon={<Users />} title="No users yet" />
          ) : (
            <UsersTable users={data.users} />
          )}
        </Card>
      ) : (
        <Card className="px-4 py-3 text-[13px] text-muted">
          You are a {ROLE_LABELS[data.you.role].toLowerCase()} of {data.tenant.name}. Your tenant admins manage who has
          access.
        </Card>
      )}

      <Dialog open={adding} onClose={closeDialog} title={`Add a user to ${data.tenant.name}`}>
        {adding ? (
          <CreateUserForm
            roles={['tenant-admin', 'tenant-user']}
            fixedTenantId={data.tenant.id}
            pending={create.isPending}
            error={create.error}
            onSubmit={({ name, email, password, role }) => {
              if (role === 'tenant-admin' || role === 'tenant-user') create.mutate({ name, email, password, role });
            }}
            onCancel={closeDialog}
          />
        ) : null}
      </Dialog>
    </>
  );
}

function Tile({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Card className="p-4">
      <p className="mb-2 text-[12px] font-medium text-muted">{label}</p>
      {children}
    </Card>
  );
}
