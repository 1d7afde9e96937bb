import type { AuditRepository } from '../audit/audit-repository';
import type { RegisterRequest, RegisterResponse } from './agent-protocol.schema';
import { FabricError } from './fabric.errors';
import { changeEvent, type FabricServiceDeps } from './fabric-deps';
import type { FabricRepository, HostRecord, TokenRecord } from './fabric-repository';
import { inventoryHash } from './inventory-hash';
import { assertTokenUsable } from './registration-token';
import { hashSecret, newSecret } from './secrets';

/** An agent's first call: a registration token for a host and its credential. */
export class HostRegistration {
  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  /**
   * Exchanges a one-time token for a host and its credential. Token use,
   * the host, its inventory, its credential and the audit event commit
   * together; any refusal leaves the token unused and writes only the audit
   * event of the refusal.
   */
  async registerHost(request: RegisterRequest, source: string): Promise<RegisterResponse> {
    const now = this.deps.clock.now();
    const tokenHash = hashSecret(request.token);
    const hostname = request.inventory.hostname;
    try {
      return await this.deps.uow.run(async ({ fabric, audit }) => {
        const token = await fabric.findTokenByHashForUpdate(tokenHash);
        if (!token) throw new FabricError('TOKEN_INVALID', 'Unknown registration token');
        const retried = await this.retriedRegistration(fabric, audit, token, request, now, source);
        if (retried) return retried;
        assertTokenUsable(token, now);
        const cluster = await fabric.findClusterByIdForUpdate(token.clusterId);
        if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'The token’s cluster no longer exists');
        const hostCount = await fabric.countHosts(cluster.id);
        if (hostCount >= cluster.maxHosts) {
          throw new FabricError(
            'CLUSTER_HOST_LIMIT',
            `Cluster "${cluster.name}" is at its limit of ${cluster.maxHosts} hosts`,
          );
        }
        if (await fabric.findHostByName(hostname)) {
          throw new FabricError('DUPLICATE_HOST_NAME', `A host named "${hostname}" is already registered`);
        }
        const hash = inventoryHash(request.inventory);
        // The credential is `<hostId>.<secret>`; only the secret's hash is kept.
        const secret = newSecret();
        const host = await fabric.createHost({
          clusterId: cluster.id,
          agentVersion: request.agentVersion,
          driver: request.driver,
          inventory: request.inventory,
          inventoryHash: hash,
          credentialSecretHash: hashSecret(secret),
          registrationRequestId: request.requestId ?? null,
          at: now,
        });
        await fabric.markTokenUsed(token.id, host.id, now);
        await audit.append({
          actor: { type: 'agent', id: host.id, label: hostname },
          action: 'host.register',
          targetType: 'host',
          targetId: host.id,
          targetLabel: hostname,
          result: 'success',
          details: { clusterId: cluster.id, tokenId: token.id, source, agentVersion: request.agentVersion },
        });
        await fabric.notifyHostChange(changeEvent(host, 'registered'));
        return this.registration(host, cluster, secret, hash);
      });
    } catch (error) {
      if (error instanceof FabricError) {
        // The caller proved nothing (a bad or spent token): written within the refusal budget.
        await this.repos.audit.appendRefusal({
          actor: { type: 'agent', id: null, label: hostname },
          action: 'host.register',
          targetType: 'host',
          targetLabel: hostname,
          result: 'denied',
          message: error.message,
          details: { code: error.code, source },
        });
      }
      throw error;
    }
  }

  /**
   * The retry of a registration whose answer was lost: same token, same
   * request id, same host name, while the token would still be valid. The
   * host gets a new credential (the lost one is void) and the same id.
   */
  private async retriedRegistration(
    fabric: FabricRepository,
    audit: AuditRepository,
    token: TokenRecord,
    request: RegisterRequest,
    now: Date,
    source: string,
  ): Promise<RegisterResponse | null> {
    if (!token.usedAt || !token.usedByHostId || !request.requestId || token.expiresAt <= now) return null;
    if ((await fabric.findRegistrationRequestId(token.usedByHostId)) !== request.requestId) return null;
    const host = await fabric.findHostById(token.usedByHostId);
    const cluster = await fabric.findClusterById(token.clusterId);
    if (!host || !cluster || host.name.toLowerCase() !== request.inventory.hostname.toLowerCase()) return null;
    const secret = newSecret();
    await fabric.rotateCredential(host.id, hashSecret(secret), now);
    await audit.append({
      actor: { type: 'agent', id: host.id, label: host.name },
      action: 'host.register',
      targetType: 'host',
      targetId: host.id,
      targetLabel: host.name,
      result: 'success',
      message: 'Registration retried with the same request id: credential reissued',
      details: { source, tokenId: token.id },
    });
    return this.registration(host, cluster, secret, host.inventoryHash);
  }

  /** The answer to a registration; the credential's secret leaves the API only here. */
  private registration(
    host: HostRecord,
    cluster: { id: string; name: string },
    secret: string,
    inventoryHash: string,
  ): RegisterResponse {
    return {
      hostId: host.id,
      clusterId: cluster.id,
      clusterName: cluster.name,
      credential: `${host.id}.${secret}`,
      heartbeatIntervalMs: this.deps.policy.heartbeatIntervalMs,
      inventoryHash,
    };
  }
}
