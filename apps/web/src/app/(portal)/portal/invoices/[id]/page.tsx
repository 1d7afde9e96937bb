import type { Metadata } from 'next';
import { InvoiceDetail } from '@/components/chargeback/invoice-detail';
import { RequireRole } from '@/components/shell/require-role';
import { routeIdOrNotFound } from '@/lib/route-id';

export const metadata: Metadata = { title: 'Invoice' };

export default async function PortalInvoicePage({ params }: { params: Promise<{ id: string }> }) {
  const id = routeIdOrNotFound((await params).id);
  return (
    <RequireRole roles={['tenant-admin']}>
      <InvoiceDetail id={id} backHref="/portal/invoices" hrefBase="/portal/invoices" />
    </RequireRole>
  );
}
