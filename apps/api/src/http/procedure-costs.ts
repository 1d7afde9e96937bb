/**
 * What a call costs against its user's and tenant's token buckets
 * (call-limits.ts), in units of a cheap read (one indexed query, a page of a
 * table). The dear ones, measured or read in their code: each rates or sums
 * up to a year of rollups, plans placement for many VMs, or renders a file.
 * A path not named here costs 1.
 */
export const PROCEDURE_COSTS: Readonly<Record<string, number>> = {
  // Up to 400 daily buckets, each rated as a bill of its own.
  'chargeback.costSeries': 10,
  // Every tenant's totals for a period.
  'chargeback.report': 10,
  'chargeback.bill': 4,
  'chargeback.rerate': 10,
  'chargeback.closePeriod': 10,
  // Up to 2,200 hourly or 400 daily points from rollups or raw samples.
  'metering.usageSeries': 6,
  // A tenant's or a pool's VMs over up to 400 days.
  'metering.measure': 6,
  'metering.measureVm': 2,
  // Placement what-ifs: up to 500 VMs placed over a snapshot of the fabric.
  'placement.whatIf': 10,
  'placement.nPlusOne': 6,
  'placement.evacuation': 6,
  'placement.clusterHealth': 4,
  'vms.createMany': 6,
  'vms.actOnPattern': 4,
  // Pattern forms: the single operation's checks (and, acting, its task) for up to 50 VMs.
  'replication.previewEnableByPattern': 4,
  'replication.enableByPattern': 6,
  'replication.previewFailoverByPattern': 4,
  'replication.failoverByPattern': 6,
  'mobility.previewMigrateByPattern': 6,
  'mobility.migrateByPattern': 6,
  // Search over the whole audit log and task history.
  'audit.list': 3,
  'tasks.list': 2,
};

/** A bill or invoice file (CSV, JSON, PDF) of one tenant or all. */
export const EXPORT_COST = 10;

export function costOfCall(path: string): number {
  return PROCEDURE_COSTS[path] ?? 1;
}
