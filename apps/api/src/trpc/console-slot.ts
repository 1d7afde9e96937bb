import { TRPCError } from '@trpc/server';
import type { FairGate } from '../http/fair-gate';
import type { Context } from './context';
import { t } from './init';

/** The gate each request's context runs its calls through, set by the API that made the context. */
const gates = new WeakMap<Context, { gate: FairGate; key: string }>();

export function runThroughGate(ctx: Context, gate: FairGate): Context {
  gates.set(ctx, { gate, key: ctx.caller ? (ctx.caller.tenantId ?? 'provider') : 'anonymous' });
  return ctx;
}

/**
 * Every query and mutation takes a slot of the API's console gate (fewer
 * slots than database connections, shared fairly between tenants) for as long
 * as it runs: console work can never hold every connection, so agents'
 * heartbeats and samples always find one, and a tenant's batch of calls waits
 * its turn beside the others' instead of ahead of them. Subscriptions hold
 * no slot (they wait for events, not for the database).
 */
export const consoleSlot = t.middleware(async ({ ctx, type, next }) => {
  const entry = gates.get(ctx);
  if (entry === undefined || type === 'subscription') return next();
  const release = await entry.gate.tryEnter(entry.key);
  if (release === null) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: 'Too many calls of this tenant are waiting for the server: retry in a second.',
    });
  }
  try {
    return await next();
  } finally {
    release();
  }
});
