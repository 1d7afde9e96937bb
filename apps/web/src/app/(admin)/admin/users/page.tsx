import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { UsersView } from './users-view';

export const metadata: Metadata = { title: 'Users' };

export default function UsersPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <Suspense fallback={<TableSkeleton />}>
        <UsersView />
      </Suspense>
    </RequireRole>
  );
}
