/**
 * Prisma's code for a unique constraint violation. Only repositories see it:
 * each turns it into its module's domain error, so a write that loses a race
 * to a concurrent one reads like the check that would have refused it.
 */
const UNIQUE_VIOLATION = 'P2002';

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === UNIQUE_VIOLATION;
}

/** `write`, with a unique violation replaced by `domainError()`; anything else passes through. */
export async function uniqueOr<T>(write: Promise<T>, domainError: () => Error): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw domainError();
    throw error;
  }
}

/** Prisma's code for a foreign-key violation: the row referred to was deleted meanwhile. */
const FOREIGN_KEY_VIOLATION = 'P2003';

export function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === FOREIGN_KEY_VIOLATION;
}
