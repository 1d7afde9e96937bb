'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Building2, ChevronRight, Plus, Users } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { QuotaEditor } from '@/components/tenants/quota-editor';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton, TableSkeleton } from '@/components/ui/skeleton';
import { CreateUserForm } from '@/components/users/create-user-form';
import { UsersTable } from '@/components/users/users-table';
import { errorCode } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { useTRPC } from '@/trpc/client';

export function TenantDetailView({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tenant = useQuery(trpc.tenants.get.queryOptions({ id }));
  const [adding, setAdding] = useState(false);
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.tenants.get.queryFilter({ id })),
          queryClient.invalidateQueries(trpc.tenants.list.queryFilter()),
          queryClient.invalidateQueries(trpc.users.list.queryFilter()),
        ]);
        setAdding(false);
        create.reset();
      },
    }),
  );

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href="/admin/tenants" className="hover:text-fg hover:underline">
        Tenants
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        {tenant.data?.name ?? '…'}
      </span>
    </nav>
  );

  if (tenant.isPending) {
    return (
      <div role="status" aria-label="Loading">
        <div className="mb-2 text-[12.5px] text-muted">{breadcrumb}</div>
        <Skeleton className="h-6 w-48" />
        <Skeleton className="mt-2 mb-6 h-4 w-72" />
        <Card>
          <TableSkeleton rows={4} columns={4} />
        </Card>
      </div>
    );
  }
  if (tenant.isError) {
    return (
      <Card>
        {errorCode(tenant.error) === 'NOT_FOUND' ? (
          <EmptyState
            icon={<Building2 />}
            title="Tenant not found"
            action={
              <Link href="/admin/tenants" className={buttonClass('secondary', 'sm')}>
                Back to tenants
              </Link>
            }
          />
        ) : (
          <ErrorState
            error={tenant.error}
            title="Could not load this tenant"
            onRetry={() => void tenant.refetch()}
            retrying={tenant.isFetching}
          />
        )}
      </Card>
    );
  }

  const t = tenant.data;
  return (
    <>
      <PageHeader
        breadcrumb={breadcrumb}
        title={t.name}
        description={
          <>
            <span className="font-mono text-[12px]">{t.slug}</span> · created {formatDate(t.createdAt)}
          </>
        }
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setAdding(true)}>
            Add user
          </Button>
        }
      />
      <div className="mb-5">
        <QuotaEditor tenantId={t.id} tenantName={t.name} />
      </div>
      <Card className="overflow-hidden">
        <CardHeader
          title="Users"
          description={`${t.users.length} ${t.users.length === 1 ? 'person' : 'people'} can sign in to this tenant’s portal`}
        />
        {t.users.length === 0 ? (
          <EmptyState
            icon={<Users />}
            title="No users in this tenant"
            description="Add a tenant admin first; they can then add their own colleagues from the portal."
            action={
              <Button size="sm" icon={<Plus />} onClick={() => setAdding(true)}>
                Add user
              </Button>
            }
          />
        ) : (
          <UsersTable users={t.users} />
        )}
      </Card>
      <Dialog
        open={adding}
        onClose={() => {
          setAdding(false);
          create.reset();
        }}
        title={`Add a user to ${t.name}`}
      >
        {adding ? (
          <CreateUserForm
            roles={['tenant-admin', 'tenant-user']}
            fixedTenantId={t.id}
            pending={create.isPending}
            error={create.error}
            onSubmit={(user) => create.mutate(user)}
            onCancel={() => {
              setAdding(false);
              create.reset();
            }}
          />
        ) : null}
      </Dialog>
    </>
  );
}
