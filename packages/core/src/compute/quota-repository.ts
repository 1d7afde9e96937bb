import type { Quota, Usage } from './vm.schema';

/** A tenant's quota and what its VMs use of it. */
export interface QuotaRepository {
  /** The tenant's quota row, locked until commit (created with the defaults if missing). */
  lockQuota(tenantId: string): Promise<Quota>;
  getQuota(tenantId: string): Promise<Quota>;
  tenantExists(tenantId: string): Promise<boolean>;
  setQuota(tenantId: string, quota: Quota): Promise<void>;
  /** Allocated and running figures of the tenant's VMs; a VM being created counts as running. */
  usage(tenantId: string): Promise<Usage>;
}
