import pg from 'pg';
import { currentDbScope, TENANT_SETTING } from './db-scope';

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * The plain `pg` pool of the hot paths (sample ingest, rollups, usage
 * reports), scoped like the Prisma client: a connection checked out for a
 * tenant's work carries that tenant in `fabric.tenant_id` until it is
 * released, then goes back to the connection's default (every tenant).
 * `pool.query` checks out through `connect`, so it is covered too. Outside a
 * tenant's work nothing is added: no extra round trip for agents and
 * background work.
 */
export class TenantScopedPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    // Read here, in the caller's async context: the checkout may complete in another.
    const scope = currentDbScope();
    if (scope.kind !== 'tenant') {
      if (!callback) return super.connect();
      super.connect(callback);
      return undefined;
    }
    const scoped = this.checkOutFor(scope.tenantId);
    if (!callback) return scoped;
    scoped.then(
      (client) =>
        callback(undefined, client, (release) => client.release(release instanceof Error ? release : undefined)),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), undefined, () => {}),
    );
    return undefined;
  }

  private async checkOutFor(tenantId: string): Promise<pg.PoolClient> {
    const client = await super.connect();
    try {
      // Session-level (not SET LOCAL): the caller may or may not open a transaction.
      await client.query('SELECT set_config($1, $2, false)', [TENANT_SETTING, tenantId]);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => {
      // A failed client is destroyed, setting and all; a healthy one goes back
      // to the pool only after its setting is back to the connection's default.
      if (err) return release(err);
      // pool.query releases from inside its query's callback, while the client
      // still counts as busy: reset on the next turn.
      setImmediate(() => {
        client.query(`RESET ${TENANT_SETTING}`).then(
          () => release(),
          (error: unknown) => release(error instanceof Error ? error : true),
        );
      });
    };
    return client;
  }
}
