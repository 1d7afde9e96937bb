import { hostNameRedactor } from '@fabric/core/shared/hide-hosts';
import type { Db } from './prisma';

/** How long a list of host names is reused: a host registered since is hidden within this. */
const FRESH_MS = 10_000;

/**
 * The provider's host names, for hiding them from tenants (trpc/hide-hosts.ts):
 * read at most every 10 s, shared by every call, one read in flight at a time.
 */
export class HostNameCache {
  private cached: { at: number; redact: (text: string) => string } | null = null;
  private loading: Promise<(text: string) => string> | null = null;

  constructor(
    private readonly db: Db,
    private readonly nowMs: () => number = Date.now,
  ) {}

  redactor(): Promise<(text: string) => string> {
    const cached = this.cached;
    if (cached && this.nowMs() - cached.at < FRESH_MS) return Promise.resolve(cached.redact);
    this.loading ??= this.db.host
      .findMany({ select: { name: true } })
      .then((rows) => {
        const redact = hostNameRedactor(rows.map((r) => r.name));
        this.cached = { at: this.nowMs(), redact };
        return redact;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}
