import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/shell/require-role';
import { TableSkeleton } from '@/components/ui/skeleton';
import { InvoicesView } from './invoices-view';

export const metadata: Metadata = { title: 'Invoices' };

export default function InvoicesPage() {
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <Suspense fallback={<TableSkeleton rows={3} columns={5} />}>
        <InvoicesView />
      </Suspense>
    </RequireRole>
  );
}
