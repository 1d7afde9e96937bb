import type { AddressClass } from '@fabric/core/metering/address-class.schema';
import type { AddressClassRepository } from '@fabric/core/metering/address-class-repository';
import { MeteringError } from '@fabric/core/metering/metering.errors';
import type { Db } from './prisma';
import { uniqueOr } from './prisma-errors';

const toClass = (row: { name: string; remoteAddresses: string[]; createdAt: Date }): AddressClass => ({
  name: row.name,
  remoteAddresses: row.remoteAddresses,
  createdAt: row.createdAt,
});

export class PrismaAddressClassRepository implements AddressClassRepository {
  constructor(private readonly db: Db) {}

  async list() {
    // Code-unit order, like invoice lines, whatever the database's collation.
    const rows = await this.db.meteredAddressClass.findMany();
    return rows.map(toClass).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async lockAll() {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fabric.metered_address_classes'))`;
  }

  async insert(name: string, remoteAddresses: string[], createdBy: string) {
    const row = await uniqueOr(
      this.db.meteredAddressClass.create({ data: { name, remoteAddresses, createdBy } }),
      () => new MeteringError('DUPLICATE_ADDRESS_CLASS', `An address class named "${name}" already exists`),
    );
    return toClass(row);
  }

  async findForUpdate(name: string) {
    const rows = await this.db.$queryRaw<{ name: string; remote_addresses: string[]; created_at: Date }[]>`
      SELECT name, remote_addresses, created_at FROM metered_address_classes WHERE name = ${name} FOR UPDATE`;
    const row = rows[0];
    return row ? { name: row.name, remoteAddresses: row.remote_addresses, createdAt: row.created_at } : null;
  }

  async hasUsage(name: string) {
    // Hourly rollups hold every rolled-up byte (indexed by acl, kept after sample retention);
    // a raw sample not in them yet is in an hour still pending (ingest marks it in the same
    // transaction), so only those hours' samples need reading, not the whole sample table.
    const rows = await this.db.$queryRaw<{ used: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM vm_acl_usage_hourly WHERE acl = ${name})
        OR EXISTS (SELECT 1 FROM rollup_pending p JOIN vm_acl_samples a
                     ON a.at > p.hour AND a.at <= p.hour + interval '1 hour' WHERE a.acl = ${name}) AS used`;
    return rows[0]?.used === true;
  }

  async delete(name: string) {
    await this.db.meteredAddressClass.delete({ where: { name } });
  }
}
