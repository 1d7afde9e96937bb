/**
 * Repositories `R`, either outside a transaction (`repos`) or bound to one
 * (`run`): everything `fn` writes commits together or not at all, audit
 * events included.
 */
export interface UnitOfWork<R> {
  readonly repos: R;
  run<T>(fn: (repos: R) => Promise<T>): Promise<T>;
}
