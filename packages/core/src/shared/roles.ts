export const ROLES = ['provider-admin', 'tenant-admin', 'tenant-user', 'finance'] as const;
export type Role = (typeof ROLES)[number];

export const PROVIDER_ROLES: readonly Role[] = ['provider-admin', 'finance'];
export const TENANT_ROLES: readonly Role[] = ['tenant-admin', 'tenant-user'];

export function isTenantRole(role: Role): boolean {
  return TENANT_ROLES.includes(role);
}

export const ROLE_LABELS: Record<Role, string> = {
  'provider-admin': 'Provider admin',
  'tenant-admin': 'Tenant admin',
  'tenant-user': 'Tenant user',
  finance: 'Finance',
};
