import { CoreError } from '@fabric/core/shared/errors';
import type { Role } from '@fabric/core/shared/roles';
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import type { Context } from './context';
import { CORE_ERROR_CODES, databaseValueErrorCode, isCoreErrorCode } from './error-map';

/** Issues named in a validation error's message; the rest are counted (all are in `data.zodError`). */
const MESSAGE_ISSUES = 5;

/**
 * A refused input's message, for people and API clients: each issue as "field: rule" ("vcpus: at most 64
 * virtual processors (the per-VM limit)"), not zod's JSON dump. The console reads the fields from `zodError`.
 */
export function validationMessage(error: ZodError): string {
  const lines = error.issues
    .slice(0, MESSAGE_ISSUES)
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message));
  const more = error.issues.length - MESSAGE_ISSUES;
  return `${lines.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** Every procedure declares who may call it; the role table test reads this. */
export interface Meta {
  roles: readonly Role[] | 'public' | 'authenticated';
}

export const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 20_000 } },
    errorFormatter({ shape, error }) {
      const zodError = error.cause instanceof ZodError ? error.cause.flatten() : null;
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      return {
        ...shape,
        message: internal
          ? 'Something went wrong on the server. It has been logged.'
          : error.cause instanceof ZodError
            ? validationMessage(error.cause)
            : shape.message,
        data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, zodError },
      };
    },
  });

/**
 * Turns core errors into transport errors with the same user-facing message,
 * in one place; anything else stays an internal error (logged, not shown).
 */
export const mapErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof CoreError && isCoreErrorCode(cause.code)) {
    throw new TRPCError({ code: CORE_ERROR_CODES[cause.code], message: cause.message, cause });
  }
  if (result.error.code === 'INTERNAL_SERVER_ERROR') {
    const valueError = databaseValueErrorCode(cause);
    if (valueError) {
      // The caller's value, not our fault, but a schema should have refused it: say so in the log.
      console.warn(`[api] ${path}: missing input validation, the database refused a value (${valueError})`);
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'A value in the request cannot be stored', cause });
    }
    console.error(`[api] ${path} failed:`, cause ?? result.error);
  }
  return result;
});
