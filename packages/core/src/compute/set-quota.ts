import type { Actor } from '../shared/tenant-scope';
import { ComputeError } from './compute.errors';
import type { ComputeDeps } from './compute-deps';
import type { Quota } from './vm.schema';

/** A tenant's quota and what its VMs use of it. */
export async function getQuotaAndUsage(deps: Pick<ComputeDeps, 'uow'>, tenantId: string) {
  const { quotas } = deps.uow.repos;
  if (!(await quotas.tenantExists(tenantId))) throw new ComputeError('TENANT_NOT_FOUND', 'Tenant not found');
  const [quota, usage] = await Promise.all([quotas.getQuota(tenantId), quotas.usage(tenantId)]);
  return { quota, usage };
}

/** Sets a tenant's quota (under its lock, so no create is admitted against a half-changed one), audited. */
export async function setQuota(deps: Pick<ComputeDeps, 'uow'>, actor: Actor, tenantId: string, quota: Quota) {
  if (!(await deps.uow.repos.quotas.tenantExists(tenantId))) {
    throw new ComputeError('TENANT_NOT_FOUND', 'Tenant not found');
  }
  await deps.uow.run(async ({ quotas, audit }) => {
    await quotas.lockQuota(tenantId);
    await quotas.setQuota(tenantId, quota);
    await audit.append({
      actor,
      action: 'quota.set',
      targetType: 'tenant',
      targetId: tenantId,
      tenantId,
      result: 'success',
      details: { ...quota },
    });
  });
  return getQuotaAndUsage(deps, tenantId);
}
