import type { Role } from '@fabric/core/shared/roles';
import Link from 'next/link';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { formatDate } from '@/lib/format';
import { RoleBadge } from './role-badge';

interface UserRow {
  id: string;
  name: string;
  email: string;
  role: Role;
  tenantId?: string | null;
  tenantName?: string | null;
  createdAt?: Date;
}

export function UsersTable({ users, showTenant = false }: { users: UserRow[]; showTenant?: boolean }) {
  const showCreated = users.some((u) => u.createdAt);
  return (
    <Table aria-label="Users">
      <THead>
        <TH>Name</TH>
        <TH>Email</TH>
        <TH>Role</TH>
        {showTenant ? <TH>Tenant</TH> : null}
        {showCreated ? <TH>Added</TH> : null}
      </THead>
      <tbody>
        {users.map((user) => (
          <TR key={user.id}>
            <TD className="font-medium">{user.name}</TD>
            <TD className="text-muted">{user.email}</TD>
            <TD>
              <RoleBadge role={user.role} />
            </TD>
            {showTenant ? (
              <TD className="text-muted">
                {user.tenantId && user.tenantName ? (
                  <Link href={`/admin/tenants/${user.tenantId}`} className="hover:text-fg hover:underline">
                    {user.tenantName}
                  </Link>
                ) : (
                  <span className="text-subtle">Provider</span>
                )}
              </TD>
            ) : null}
            {showCreated ? <TD className="text-muted tabular">{formatDate(user.createdAt)}</TD> : null}
          </TR>
        ))}
      </tbody>
    </Table>
  );
}
