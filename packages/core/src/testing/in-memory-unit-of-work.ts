import type { UnitOfWork } from '../shared/unit-of-work';

/** An in-memory repository that can take its state back: what a rollback needs. */
export interface Snapshottable {
  /** Copies the current state; calling the returned function puts it back. */
  snapshot(): () => void;
}

function isSnapshottable(repo: unknown): repo is Snapshottable {
  return typeof repo === 'object' && repo !== null && 'snapshot' in repo && typeof repo.snapshot === 'function';
}

/**
 * Runs `fn` against the same repositories as outside a transaction, and
 * restores every snapshottable one when it throws: all or nothing, like the
 * Prisma unit of work. Runs are not concurrent, so locks are not modelled.
 */
export function inMemoryUnitOfWork<R extends object>(repos: R): UnitOfWork<R> {
  return {
    repos,
    async run(fn) {
      const restores = [...new Set(Object.values(repos))].filter(isSnapshottable).map((repo) => repo.snapshot());
      try {
        return await fn(repos);
      } catch (error) {
        for (const restore of restores) restore();
        throw error;
      }
    },
  };
}
