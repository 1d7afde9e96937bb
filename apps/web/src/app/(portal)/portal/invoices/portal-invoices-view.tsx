'use client';

import { useQuery } from '@tanstack/react-query';
import { FileText } from 'lucide-react';
import { InvoiceTable } from '@/components/chargeback/invoice-detail';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { useTRPC } from '@/trpc/client';

export function PortalInvoicesView() {
  const trpc = useTRPC();
  const invoices = useQuery(trpc.chargeback.invoices.queryOptions({}));
  return (
    <>
      <PageHeader
        title="Invoices"
        description="Your provider's invoices for closed months. An invoice never changes once issued; a correction is a new version beside it."
      />
      <Card className="overflow-hidden">
        <CardHeader title="Closed months" />
        {invoices.isPending ? (
          <TableSkeleton rows={4} columns={6} />
        ) : invoices.isError ? (
          <ErrorState
            error={invoices.error}
            title="Could not load invoices"
            onRetry={() => void invoices.refetch()}
            retrying={invoices.isFetching}
          />
        ) : invoices.data.length === 0 ? (
          <EmptyState
            icon={<FileText />}
            title="No invoices yet"
            description="Invoices appear when your provider closes a month. Until then, Bill shows what this month costs so far."
          />
        ) : (
          <InvoiceTable invoices={invoices.data} hrefBase="/portal/invoices" showTenant={false} label="Invoices" />
        )}
      </Card>
    </>
  );
}
