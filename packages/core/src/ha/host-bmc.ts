import { FabricError } from '../fabric/fabric.errors';
import type { Actor } from '../shared/tenant-scope';
import type { HostBmcView, SetHostBmcInput } from './bmc.schema';
import type { HaServiceDeps } from './ha-service';

/** Seals a secret for storage (shared/sealed-secret.ts with the API's key). */
export interface SecretSealer {
  seal(plain: string): string;
}

/**
 * A host's BMC login, kept like its credentials (docs/high-availability.md, "Fencing through a BMC"): set
 * and replaced by the provider, audited, the password sealed at rest and never shown again.
 */
export class HostBmcs {
  constructor(private readonly deps: Pick<HaServiceDeps, 'uow' | 'clock'> & { sealer: SecretSealer }) {}

  async view(hostId: string): Promise<HostBmcView> {
    const { ha } = this.deps.uow.repos;
    if (!(await ha.hostHealth(hostId))) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
    const row = await ha.findHostBmc(hostId);
    return row
      ? { url: row.url, username: row.username, passwordSet: row.passwordSealed !== '', updatedAt: row.updatedAt }
      : null;
  }

  /** Sets or replaces the login; without a password the one set before stays (refused when there is none). */
  async set(actor: Actor, input: SetHostBmcInput): Promise<HostBmcView> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async ({ ha, audit }) => {
      const host = await ha.hostHealth(input.hostId);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      const before = await ha.findHostBmc(input.hostId);
      const passwordSealed =
        input.password !== undefined ? this.deps.sealer.seal(input.password) : before?.passwordSealed;
      if (!passwordSealed) {
        throw new FabricError(
          'INVALID_STATE',
          `${host.name} has no BMC password yet: give one with the URL and username`,
        );
      }
      await ha.saveHostBmc({
        hostId: host.id,
        url: input.url,
        username: input.username,
        passwordSealed,
        updatedAt: now,
      });
      const changed = [
        ...(before?.url !== input.url ? ['URL'] : []),
        ...(before?.username !== input.username ? ['username'] : []),
        ...(input.password !== undefined ? ['password'] : []),
      ];
      await audit.append({
        actor,
        action: before ? 'host.bmc.replace' : 'host.bmc.set',
        targetType: 'host',
        targetId: host.id,
        targetLabel: host.name,
        result: 'success',
        message: `${host.name}: BMC ${before ? `changed (${changed.join(', ') || 'nothing'})` : 'set'} at ${input.url} as ${input.username}`,
        // Never the password, not even sealed.
        details: { url: input.url, username: input.username, passwordChanged: input.password !== undefined },
      });
      return { url: input.url, username: input.username, passwordSet: true, updatedAt: now };
    });
  }

  /** Forgets the login: fence method bmc then falls back to the lease for this host, and says so. */
  async remove(actor: Actor, hostId: string): Promise<void> {
    await this.deps.uow.run(async ({ ha, audit }) => {
      const host = await ha.hostHealth(hostId);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      if (!(await ha.deleteHostBmc(hostId))) {
        throw new FabricError('INVALID_STATE', `${host.name} has no BMC configured`);
      }
      await audit.append({
        actor,
        action: 'host.bmc.remove',
        targetType: 'host',
        targetId: host.id,
        targetLabel: host.name,
        result: 'success',
        message: `${host.name}: BMC removed`,
      });
    });
  }
}
