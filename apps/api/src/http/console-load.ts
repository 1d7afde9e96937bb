import type { IncomingMessage } from 'node:http';
import type { TRPCError } from '@trpc/server';
import type { ApiConfig } from '../env';
import { appRouter } from '../routers/root';
import { runThroughGate } from '../trpc/console-slot';
import type { Context } from '../trpc/context';
import { CallLimits } from './call-limits';
import { ConsoleAdmission } from './console-admission';
import { FairGate } from './fair-gate';

/** Calls of one tenant that may wait for a console slot; past this they are refused (429). */
const MAX_WAITING_PER_TENANT = 64;

/**
 * What keeps one tenant from slowing the others (issue 9, class 2), built
 * once per API process: the door (batch cap, per-user and per-tenant limits)
 * and the fair gate every console call runs through.
 */
export function createConsoleLoad(
  { load: config, trustedProxies }: Pick<ApiConfig, 'load' | 'trustedProxies'>,
  newContext: (req: IncomingMessage) => Promise<Context>,
) {
  const gate = new FairGate({
    limit: config.consoleConcurrency,
    // One tenant holds at most a quarter of the slots: the others' calls find one free soon, and
    // its calls' JavaScript (rating, serialising) shares the event loop with theirs, not crowds it.
    perKeyLimit: Math.max(1, Math.ceil(config.consoleConcurrency / 4)),
    maxWaitingPerKey: MAX_WAITING_PER_TENANT,
  });
  const procedures: Record<string, unknown> = appRouter._def.procedures;
  const admission = new ConsoleAdmission({
    limits: new CallLimits({ user: config.user, tenant: config.tenant }),
    maxBatchSize: config.maxBatchSize,
    resolveContext: newContext,
    trustedProxies,
    isSubscription: (path) => isSubscription(procedures[path]),
  });
  return {
    admission,
    gate,
    /** tRPC's createContext: the caller the door resolved, its calls bound to the gate. */
    async contextFor(req: IncomingMessage): Promise<Context> {
      return runThroughGate(admission.contextOf(req) ?? (await newContext(req)), gate);
    },
    /** A call refused for load tells the client when to retry. */
    retryAfterHeaders(errors: readonly TRPCError[]): Record<string, string> {
      return errors.some((e) => e.code === 'TOO_MANY_REQUESTS') ? { 'retry-after': '1' } : {};
    },
  };
}

function isSubscription(procedure: unknown): boolean {
  if (typeof procedure !== 'function' || !('_def' in procedure)) return false;
  const def: unknown = procedure._def;
  return typeof def === 'object' && def !== null && 'type' in def && def.type === 'subscription';
}
