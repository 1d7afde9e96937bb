import type { NewAuditEvent } from '../audit/audit-event';
import type { AuditRepository } from '../audit/audit-repository';
import type { Snapshottable } from './in-memory-unit-of-work';

/** Keeps appended events in `events` for assertions; the read side (audit log pages) is not modelled. */
export class InMemoryAuditRepository implements AuditRepository, Snapshottable {
  events: NewAuditEvent[] = [];

  async append(event: NewAuditEvent) {
    this.events.push(event);
  }

  /** Every refusal is kept: the budget is the store's business (audit/refusal-budget.ts). */
  async appendRefusal(event: NewAuditEvent) {
    this.events.push(event);
  }

  async appendMany(events: NewAuditEvent[]) {
    this.events.push(...events);
  }

  async list(): Promise<never> {
    throw new Error('InMemoryAuditRepository.list is not modelled');
  }

  async listForTarget(): Promise<never> {
    throw new Error('InMemoryAuditRepository.listForTarget is not modelled');
  }

  async countSignInFailures() {
    return { accountFromSource: 0, account: 0, source: 0 };
  }

  snapshot() {
    const events = [...this.events];
    return () => {
      this.events = events;
    };
  }
}
