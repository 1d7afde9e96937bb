import { type Filter, PASS, reject } from '../plugin';

/** A dedicated host runs one tenant's VMs only. The reason names no tenant: traces may be shown widely. */
export const tenantDedicationFilter: Filter = {
  name: 'tenant-dedication',
  check(host, ctx) {
    const { request } = ctx;
    if (host.dedicatedTenantId === null || host.dedicatedTenantId === request.tenantId) return PASS;
    return reject(ctx.explain, 'TENANT_DEDICATED', () => 'host is dedicated to another tenant', {});
  },
};
