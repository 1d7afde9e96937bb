'use client';

import { ROLE_LABELS, type Role } from '@fabric/core/shared/roles';
import { type FormEvent, useState } from 'react';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { errorMessage, fieldErrors } from '@/lib/errors';

export interface NewUser {
  name: string;
  email: string;
  password: string;
  role: Role;
  tenantId?: string | undefined;
}

const TENANT_ROLES: readonly Role[] = ['tenant-admin', 'tenant-user'];
const ROLE_HELP: Record<Role, string> = {
  'provider-admin': 'Runs the datacenter: clusters, hosts, tenants, audit.',
  finance: 'Reads fabric totals and the audit log for chargeback.',
  'tenant-admin': 'Manages its own tenant and its users.',
  'tenant-user': 'Uses its own tenant’s resources.',
};

/**
 * The fields of a new user. A tenant role needs a tenant and a provider role
 * must not have one; the form only shows the tenant picker when it applies,
 * and the API decides.
 */
export function CreateUserForm({
  roles,
  tenants,
  fixedTenantId,
  pending,
  error,
  onSubmit,
  onCancel,
}: {
  roles: readonly Role[];
  tenants?: { id: string; name: string }[];
  fixedTenantId?: string;
  pending: boolean;
  error: unknown;
  onSubmit: (user: NewUser) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(roles.includes('tenant-user') ? 'tenant-user' : (roles[0] ?? 'tenant-user'));
  const [tenantId, setTenantId] = useState(fixedTenantId ?? '');
  const needsTenant = TENANT_ROLES.includes(role);
  const errors = error ? fieldErrors(error) : {};
  const formError = error && Object.keys(errors).length === 0 ? errorMessage(error) : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    onSubmit({
      name,
      email,
      password,
      role,
      tenantId: needsTenant ? fixedTenantId || tenantId || undefined : undefined,
    });
  }

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      {formError ? <InlineError>{formError}</InlineError> : null}
      <Field label="Full name" htmlFor="user-name" error={errors.name}>
        <Input
          {...describedBy('user-name', errors.name)}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
          autoFocus
        />
      </Field>
      <Field label="Email" htmlFor="user-email" error={errors.email}>
        <Input
          {...describedBy('user-email', errors.email)}
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoComplete="off"
        />
      </Field>
      <Field
        label="Initial password"
        htmlFor="user-password"
        error={errors.password}
        hint="At least 10 characters. Share it over a separate channel."
      >
        <Input
          {...describedBy('user-password', errors.password, true)}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete="new-password"
        />
      </Field>
      <Field label="Role" htmlFor="user-role" error={errors.role} hint={ROLE_HELP[role]}>
        <Select
          {...describedBy('user-role', errors.role, true)}
          value={role}
          onChange={(e) => setRole(roles.find((r) => r === e.target.value) ?? role)}
        >
          {roles.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </Select>
      </Field>
      {needsTenant && !fixedTenantId && tenants ? (
        <Field label="Tenant" htmlFor="user-tenant" error={errors.tenantId}>
          <Select
            {...describedBy('user-tenant', errors.tenantId)}
            value={tenantId}
            onChange={(e) => setTenantId(e.target.value)}
          >
            <option value="">Choose a tenant…</option>
            {tenants.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </Select>
        </Field>
      ) : null}
      <div className="flex justify-end gap-2 pt-1">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" loading={pending}>
          Add user
        </Button>
      </div>
    </form>
  );
}
