import type { Metadata } from 'next';
import { InvoiceDetail } from '@/components/chargeback/invoice-detail';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Invoice' };

export default async function AdminInvoicePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <RequireRole roles={['provider-admin', 'finance']}>
      <InvoiceDetail id={id} backHref="/admin/invoices" hrefBase="/admin/invoices" />
    </RequireRole>
  );
}
