import { existedDuring } from '../chargeback/chargeback-repository';
import type { BillingSource, TenantBill } from '../chargeback/invoice-service';
import { rateUsage } from '../chargeback/rate';
import type { RateCard } from '../chargeback/rate-card';
import { LIST_PLAN } from '../chargeback/tenant-plan';
import type { HourlyUsage, RatingPeriod } from '../chargeback/usage.schema';

export interface FakeTenant {
  id: string;
  name: string;
  /** One VM running this many vCPUs for the period's first hour: the only usage billed. */
  vcpus: number;
  /** When the tenant was created (default: long before any period billed). */
  createdAt?: Date;
}

/** 0.01 per vCPU-hour, nothing else charged: a tenant's total is vcpus × 0.01. */
export const FLAT_CARD: RateCard = {
  currency: 'EUR',
  effectiveFrom: '2026-01-01',
  prices: {
    vcpuHour: '0.01',
    memoryGiBHour: '0',
    diskGiBMonth: '0',
    networkOutGiB: { internet: '0', datacenter: '0' },
    networkInGiB: { internet: '0', datacenter: '0' },
    replicaStorageGiBMonth: '0',
  },
};

/**
 * Tenants and their bills without the metering store: each bill is rated by
 * the real `rateUsage` from one hour of usage, so invoices are real and
 * deterministic. Counts how often each tenant was billed; `failWith` makes
 * `billTenants` throw for a tenant (a rating error mid-close).
 */
export class FakeBillingSource implements BillingSource {
  cards: RateCard[] = [FLAT_CARD];
  tenants: FakeTenant[] = [];
  /** billTenants calls per tenant id. */
  billed = new Map<string, number>();
  failWith: ((tenantId: string) => Error | null) | null = null;

  async rateCards() {
    return [...this.cards];
  }

  async billAll(period: RatingPeriod): Promise<TenantBill[]> {
    return this.tenants.map((t) => this.bill(t, period));
  }

  /** The wanted tenants in the source's order; unknown ids are left out, as the chargeback service does. */
  async billTenants(period: RatingPeriod, tenantIds: readonly string[]): Promise<TenantBill[]> {
    const wanted = new Set(tenantIds);
    const bills: TenantBill[] = [];
    for (const tenant of this.tenants.filter((t) => wanted.has(t.id))) {
      this.billed.set(tenant.id, (this.billed.get(tenant.id) ?? 0) + 1);
      const failure = this.failWith?.(tenant.id);
      if (failure) throw failure;
      bills.push(this.bill(tenant, period));
    }
    return bills;
  }

  async tenantIds(period: RatingPeriod) {
    return this.tenants
      .filter((t) => existedDuring({ createdAt: t.createdAt ?? new Date(0) }, period))
      .map((t) => t.id);
  }

  private bill(tenant: FakeTenant, period: RatingPeriod): TenantBill {
    const usage: HourlyUsage[] = [
      {
        vmId: `vm-${tenant.id}`,
        vmName: `${tenant.name.toLowerCase()}-01`,
        hour: period.from,
        vcpus: tenant.vcpus,
        runningSeconds: 3600,
        memMibSeconds: 0,
        diskGibSeconds: 0,
        replicaGibSeconds: 0,
        networkInBytes: { internet: 0, datacenter: 0 },
        networkOutBytes: { internet: 0, datacenter: 0 },
      },
    ];
    return {
      tenantId: tenant.id,
      tenantName: tenant.name,
      invoice: rateUsage(usage, this.cards, LIST_PLAN, period),
    };
  }
}
