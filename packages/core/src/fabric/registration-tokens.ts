import type { Actor } from '../shared/tenant-scope';
import { FabricError } from './fabric.errors';
import type { CreateTokenInput, TokenView } from './fabric.schema';
import type { FabricServiceDeps } from './fabric-deps';
import { tokenExpiry, tokenStatus } from './registration-token';
import { newRegistrationToken } from './secrets';

/** The one-time tokens an admin issues for a cluster, which agents exchange for a host (register-host.ts). */
export class RegistrationTokens {
  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  async createToken(actor: Actor, input: CreateTokenInput) {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async ({ fabric, audit }) => {
      const cluster = await fabric.findClusterById(input.clusterId);
      if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
      const { token, hash, prefix } = newRegistrationToken();
      const expiresAt = tokenExpiry(now, input.ttlMinutes);
      const { id } = await fabric.createToken({
        clusterId: cluster.id,
        tokenHash: hash,
        prefix,
        label: input.label,
        expiresAt,
        createdById: actor.id ?? 'system',
      });
      await audit.append({
        actor,
        action: 'token.create',
        targetType: 'cluster',
        targetId: cluster.id,
        targetLabel: cluster.name,
        result: 'success',
        details: { tokenId: id, prefix, expiresAt: expiresAt.toISOString() },
      });
      const agentCommand = `npm run agent -- --api ${this.deps.agentApiUrl} --token ${token} --driver simulated --profile standard-2x16-512g --hostname <host-name>`;
      return { id, token, expiresAt, agentCommand };
    });
  }

  async listTokens(clusterId: string): Promise<TokenView[]> {
    const cluster = await this.repos.fabric.findClusterById(clusterId);
    if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
    const now = this.deps.clock.now();
    const tokens = await this.repos.fabric.listTokens(clusterId);
    return tokens.map((t) => ({ ...t, status: tokenStatus(t, now) }));
  }

  async revokeToken(actor: Actor, id: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const token = await fabric.findTokenById(id);
      if (!token) throw new FabricError('TOKEN_NOT_FOUND', 'Registration token not found');
      if (tokenStatus(token, now) !== 'active') {
        throw new FabricError('TOKEN_NOT_ACTIVE', `This token is already ${tokenStatus(token, now)}`);
      }
      await fabric.revokeToken(id, now);
      await audit.append({ actor, action: 'token.revoke', targetType: 'token', targetId: id, result: 'success' });
    });
  }
}
