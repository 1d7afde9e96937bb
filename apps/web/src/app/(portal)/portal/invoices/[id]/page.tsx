import type { Metadata } from 'next';
import { InvoiceDetail } from '@/components/chargeback/invoice-detail';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Invoice' };

export default async function PortalInvoicePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['tenant-admin']}>
      <InvoiceDetail id={id} backHref="/portal/invoices" hrefBase="/portal/invoices" />
    </RequireRole>
  );
}
