import { hostNameRedactor } from '@fabric/core/shared/hide-hosts';
import type { Db } from './prisma';

/**
 * The provider's host names, for hiding them from tenants (trpc/hide-hosts.ts).
 *
 * Every call asks Postgres one small question (how many hosts, the latest
 * registration) and reads the names again only when the answer changed, so a
 * host registered a moment ago is hidden from the first tenant call that could
 * name it; a time-based cache left a window (10 s) in which a VM placed on a
 * new host showed the tenant its name. Concurrent calls share one question.
 * Names of hosts removed since stay hidden: old activity may still name them.
 */
export class HostNameCache {
  private signature = '';
  private readonly names = new Set<string>();
  private redact: (text: string) => string = (text) => text;
  private loading: Promise<(text: string) => string> | null = null;

  constructor(private readonly db: Db) {}

  redactor(): Promise<(text: string) => string> {
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<(text: string) => string> {
    const [now] = await this.db.$queryRaw<{ n: number; newest: Date | null }[]>`
      SELECT count(*)::int AS n, max(registered_at) AS newest FROM hosts`;
    const signature = `${now?.n ?? 0}/${now?.newest?.getTime() ?? 0}`;
    if (signature === this.signature) return this.redact;
    const rows = await this.db.host.findMany({ select: { name: true } });
    for (const row of rows) this.names.add(row.name);
    this.redact = hostNameRedactor([...this.names]);
    this.signature = signature;
    return this.redact;
  }
}
