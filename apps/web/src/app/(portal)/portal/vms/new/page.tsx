import type { Metadata } from 'next';
import { RequireRole } from '@/components/shell/require-role';
import { CreateVmForm } from '@/components/vms/create-vm-form';

export const metadata: Metadata = { title: 'New virtual machine' };

export default function NewVmPage() {
  return (
    <RequireRole roles={['tenant-admin', 'tenant-user']}>
      <CreateVmForm />
    </RequireRole>
  );
}
