import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import type { Actor } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import {
  type AddressClass,
  cidrsOverlap,
  type DefineAddressClassInput,
  MAX_ADDRESS_CLASSES,
  parseCidr,
} from './address-class.schema';
import type { AddressClassRepository } from './address-class-repository';
import { MeteringError } from './metering.errors';

/** What agents are told in every heartbeat answer: the classes to meter, by name, with their blocks. */
export interface MeteredAcl {
  name: string;
  remoteAddresses: string[];
}

/**
 * Agents ask on every heartbeat (thousands a second at scale): the list is
 * reused for this long. An agent that learns a class a few seconds late only
 * meters it a few seconds later; ingest always checks against the table.
 */
const AGENT_LIST_TTL_MS = 5_000;

/**
 * The provider's metered address classes: define, list, remove. Every change
 * is audited in the same transaction as the change.
 */
export class AddressClassService {
  private cached: { atMs: number; acls: MeteredAcl[] } | null = null;

  constructor(
    private readonly deps: {
      uow: UnitOfWork<{ addressClasses: AddressClassRepository; audit: AuditRepository }>;
      clock: Clock;
    },
  ) {}

  list(): Promise<AddressClass[]> {
    return this.deps.uow.repos.addressClasses.list();
  }

  /** The classes agents meter (see AGENT_LIST_TTL_MS). */
  async forAgents(): Promise<MeteredAcl[]> {
    const nowMs = this.deps.clock.now().getTime();
    if (this.cached && nowMs - this.cached.atMs < AGENT_LIST_TTL_MS && nowMs >= this.cached.atMs) {
      return this.cached.acls;
    }
    const acls = (await this.list()).map(({ name, remoteAddresses }) => ({ name, remoteAddresses }));
    this.cached = { atMs: nowMs, acls };
    return acls;
  }

  /**
   * Defines a class. Refused: a 17th class, a taken name, or a block that
   * overlaps another class's (its traffic would be metered, and billed, twice).
   */
  async define(actor: Actor, input: DefineAddressClassInput): Promise<AddressClass> {
    const created = await this.deps.uow.run(async ({ addressClasses, audit }) => {
      await addressClasses.lockAll();
      const existing = await addressClasses.list();
      if (existing.some((c) => c.name === input.name)) {
        throw new MeteringError('DUPLICATE_ADDRESS_CLASS', `An address class named "${input.name}" already exists`);
      }
      if (existing.length >= MAX_ADDRESS_CLASSES) {
        throw new MeteringError(
          'ADDRESS_CLASS_LIMIT',
          `At most ${MAX_ADDRESS_CLASSES} metered address classes besides internet and datacenter; remove an unused one first`,
        );
      }
      for (const block of input.remoteAddresses) {
        const mine = parseCidr(block);
        if ('error' in mine) continue; // The input schema refused these already.
        for (const other of existing) {
          for (const theirs of other.remoteAddresses) {
            const parsed = parseCidr(theirs);
            if (!('error' in parsed) && cidrsOverlap(mine, parsed)) {
              throw new MeteringError(
                'ADDRESS_CLASS_OVERLAP',
                `${block} overlaps ${theirs} of class "${other.name}": traffic to it would be metered twice`,
              );
            }
          }
        }
      }
      const cls = await addressClasses.insert(input.name, input.remoteAddresses, actor.label);
      await audit.append({
        actor,
        action: 'metering.address-class.define',
        targetType: 'address-class',
        targetLabel: cls.name,
        result: 'success',
        details: { name: cls.name, remoteAddresses: cls.remoteAddresses },
      });
      return cls;
    });
    this.cached = null;
    return created;
  }

  /** Removes a class no sample or rollup mentions: bills already rated with it must stay reproducible. */
  async remove(actor: Actor, name: string): Promise<void> {
    await this.deps.uow.run(async ({ addressClasses, audit }) => {
      const cls = await addressClasses.findForUpdate(name);
      if (!cls) throw new MeteringError('ADDRESS_CLASS_NOT_FOUND', `No address class named "${name}"`);
      if (await addressClasses.hasUsage(name)) {
        throw new MeteringError(
          'ADDRESS_CLASS_IN_USE',
          `Address class "${name}" has metered usage: samples and rollups name it, and bills and Measure-VM ` +
            'over those periods must stay the same, so a class with usage is kept',
        );
      }
      await addressClasses.delete(name);
      await audit.append({
        actor,
        action: 'metering.address-class.remove',
        targetType: 'address-class',
        targetLabel: name,
        result: 'success',
        details: { name, remoteAddresses: cls.remoteAddresses },
      });
    });
    this.cached = null;
  }
}
