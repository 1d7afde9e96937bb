import { hideHosts } from '@fabric/core/shared/hide-hosts';
import { TRPCError } from '@trpc/server';
import { t } from './init';

/**
 * Tenants never read the provider's host names (issue 9): every answer,
 * event and error message a tenant's call returns has them hidden
 * (core/shared/hide-hosts.ts), whichever procedure built it. Outermost, so
 * it also sees the messages mapErrors builds from core errors.
 */
export const hideHostsFromTenants = t.middleware(async ({ ctx, next }) => {
  if (!ctx.caller?.tenantId) return next();
  const redact = await ctx.services.hostNames.redactor();
  const result = await next();
  if (!result.ok) {
    const { error } = result;
    const message = redact(error.message);
    if (message === error.message) return result;
    throw new TRPCError({ code: error.code, message, cause: error.cause });
  }
  const data: unknown = result.data;
  if (isAsyncIterable(data)) return { ...result, data: hiddenStream(data, redact) };
  return { ...result, data: hideHosts(data, redact) };
});

async function* hiddenStream(source: AsyncIterable<unknown>, redact: (text: string) => string) {
  for await (const item of source) yield hideHosts(item, redact);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
