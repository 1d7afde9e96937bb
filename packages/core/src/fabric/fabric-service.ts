import type { AuditRepository } from '../audit/audit-repository';
import type { Clock } from '../shared/clock';
import { type Actor, SYSTEM_ACTOR } from '../shared/tenant-scope';
import type { UnitOfWork } from '../shared/unit-of-work';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  InventoryRequest,
  InventoryResponse,
  RegisterRequest,
  RegisterResponse,
} from './agent-protocol.schema';
import { FabricError } from './fabric.errors';
import type {
  ClusterView,
  CreateClusterInput,
  CreateTokenInput,
  HostChangeEvent,
  HostDetail,
  ListHostsInput,
  TokenView,
} from './fabric.schema';
import type { FabricRepository, HostRecord, TokenRecord } from './fabric-repository';
import {
  type HeartbeatPolicy,
  type HostState,
  nextStateFromSilence,
  silenceCutoff,
  stateAfterMaintenance,
  stateOnHeartbeat,
} from './host-state';
import { inventoryHash } from './inventory-hash';
import { assertTokenUsable, tokenExpiry, tokenStatus } from './registration-token';
import { hashSecret, newRegistrationToken, newSecret, parseHostCredential, secretMatches } from './secrets';

type Repos = { fabric: FabricRepository; audit: AuditRepository };

export interface FabricServiceDeps {
  uow: UnitOfWork<Repos>;
  clock: Clock;
  policy: HeartbeatPolicy;
  /** The URL agents use to reach the API, for the copyable start command. */
  agentApiUrl: string;
}

export interface StateChange {
  hostId: string;
  name: string;
  from: HostState;
  to: HostState;
}

const MONITOR_LOCK = 'fabric.host-monitor';

/**
 * How long a verified host credential is trusted by `authenticateAgentForWrite`
 * without reading it again (see there: the write itself checks it again).
 */
export const CREDENTIAL_CACHE_MS = 30_000;
/** 10,000 hosts fit with room to spare (an entry is ~0.5 KiB). */
const CREDENTIAL_CACHE_MAX_HOSTS = 50_000;

/** An authenticated agent, with the hash of the credential it presented (a write checks it is still current). */
export interface AgentCredential {
  host: HostRecord;
  secretHash: string;
  /** The caller's address, for the audit of a refusal. */
  source: string;
}

interface VerifiedCredential {
  host: HostRecord;
  secretHash: string;
  /** Epoch ms after which the credential is read again. */
  until: number;
}

export class FabricService {
  /** Per host id, the credential last verified (see authenticateAgentForWrite). */
  private readonly verifiedCredentials = new Map<string, VerifiedCredential>();

  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
  }

  // ---------------------------------------------------------------- clusters

  async createCluster(actor: Actor, input: CreateClusterInput): Promise<ClusterView> {
    return this.deps.uow.run(async ({ fabric, audit }) => {
      if (await fabric.findClusterByName(input.name)) {
        throw new FabricError('DUPLICATE_CLUSTER_NAME', `A cluster named "${input.name}" already exists`);
      }
      const cluster = await fabric.createCluster(input);
      await audit.append({
        actor,
        action: 'cluster.create',
        targetType: 'cluster',
        targetId: cluster.id,
        targetLabel: cluster.name,
        result: 'success',
        details: { maxHosts: cluster.maxHosts, maxVms: cluster.maxVms },
      });
      return { ...cluster, hostCount: 0 };
    });
  }

  listClusters(): Promise<ClusterView[]> {
    return this.repos.fabric.listClusters();
  }

  async getCluster(id: string): Promise<ClusterView> {
    const cluster = await this.repos.fabric.findClusterById(id);
    if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
    return { ...cluster, hostCount: await this.repos.fabric.countHosts(id) };
  }

  // ------------------------------------------------------ registration tokens

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

  // ------------------------------------------------------------ agent side

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
        await this.repos.audit.append({
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

  /**
   * Resolves the bearer credential to its host and checks it acts for the
   * host in the path: a credential is good for its own host only. Forged or
   * unknown credentials are refused and audited. Always read from the
   * database: a removed host or replaced credential is refused at once.
   */
  async authenticateAgent(pathHostId: string, bearer: string | null, source: string): Promise<HostRecord> {
    return (await this.verifyCredential(pathHostId, bearer, source, false)).host;
  }

  /**
   * The samples endpoint's authentication, before its body is read: as
   * `authenticateAgent`, but a credential verified in the last
   * CREDENTIAL_CACHE_MS is not read again (one batch a second per host
   * would otherwise cost a read each). Only for writes that check the
   * credential again in their own statement (`MeteringService.ingest` does):
   * a removed host or replaced credential stores nothing from the next
   * message on; the cache only lets such a caller's body (bounded) be read
   * before it is refused, for at most CREDENTIAL_CACHE_MS. Refusals are never
   * cached, so an unknown caller always gets nothing parsed.
   */
  async authenticateAgentForWrite(pathHostId: string, bearer: string | null, source: string): Promise<AgentCredential> {
    return this.verifyCredential(pathHostId, bearer, source, true);
  }

  private async verifyCredential(
    pathHostId: string,
    bearer: string | null,
    source: string,
    cached: boolean,
  ): Promise<AgentCredential> {
    const parsed = bearer ? parseHostCredential(bearer) : null;
    const now = this.deps.clock.now().getTime();
    let verified: VerifiedCredential | undefined;
    if (parsed && cached) {
      const entry = this.verifiedCredentials.get(parsed.hostId);
      if (entry && entry.until > now && secretMatches(parsed.secret, entry.secretHash)) verified = entry;
    }
    if (parsed && !verified) {
      const found = await this.repos.fabric.findHostCredential(parsed.hostId);
      if (found && secretMatches(parsed.secret, found.secretHash)) {
        verified = { ...found, until: now + CREDENTIAL_CACHE_MS };
        this.rememberCredential(parsed.hostId, verified);
      } else {
        this.verifiedCredentials.delete(parsed.hostId);
      }
    }
    if (!parsed || !verified) {
      await this.repos.audit.append({
        actor: { type: 'agent', id: null, label: source },
        action: 'agent.authenticate',
        targetType: 'host',
        targetId: pathHostId,
        result: 'denied',
        message: 'Invalid or revoked host credential',
      });
      throw new FabricError('CREDENTIAL_INVALID', 'Invalid or revoked host credential');
    }
    const { host } = verified;
    if (parsed.hostId !== pathHostId) {
      await this.repos.audit.append({
        actor: { type: 'agent', id: host.id, label: host.name },
        action: 'agent.impersonate',
        targetType: 'host',
        targetId: pathHostId,
        result: 'denied',
        message: `Host ${host.name} tried to report for another host`,
        details: { source },
      });
      throw new FabricError('HOST_MISMATCH', 'This credential belongs to another host');
    }
    return { host, secretHash: verified.secretHash, source };
  }

  /** Bounded: past CREDENTIAL_CACHE_MAX_HOSTS the least recently verified host is forgotten. */
  private rememberCredential(hostId: string, entry: VerifiedCredential) {
    this.verifiedCredentials.delete(hostId);
    if (this.verifiedCredentials.size >= CREDENTIAL_CACHE_MAX_HOSTS) {
      const oldest = this.verifiedCredentials.keys().next();
      if (!oldest.done) this.verifiedCredentials.delete(oldest.value);
    }
    this.verifiedCredentials.set(hostId, entry);
  }

  /** Accepts an authenticated message's sequence number (see the protocol's replay rule). */
  async acceptMessage(host: HostRecord, seq: number): Promise<void> {
    if (!(await this.repos.fabric.acceptSeq(host.id, seq))) throw replayed();
  }

  async reportInventory(host: HostRecord, request: InventoryRequest): Promise<InventoryResponse> {
    const now = this.deps.clock.now();
    const hash = inventoryHash(request.inventory);
    return this.deps.uow.run(async ({ fabric, audit }) => {
      const current = await fabric.acceptSeq(host.id, request.seq);
      if (!current) throw replayed();
      if (request.inventory.hostname !== current.name) {
        throw new FabricError(
          'INVALID_STATE',
          `Inventory is for "${request.inventory.hostname}" but this host is registered as "${current.name}"`,
        );
      }
      if (hash !== current.inventoryHash) {
        await fabric.replaceInventory(host.id, request.agentVersion, request.inventory, hash, now);
        await audit.append({
          actor: { type: 'agent', id: host.id, label: current.name },
          action: 'host.inventory',
          targetType: 'host',
          targetId: host.id,
          targetLabel: current.name,
          result: 'success',
          details: {
            logicalProcessors: request.inventory.cpu.logicalProcessors,
            memoryMiB: request.inventory.memoryMiB,
            nics: request.inventory.nics.length,
            storagePools: request.inventory.storagePools.length,
          },
        });
        await fabric.notifyHostChange(changeEvent(current, 'inventory'));
      }
      // An inventory report is also a sign of life.
      await fabric.markSeen(host.id, now, request.agentVersion);
      await this.recoverOnHeartbeat(fabric, audit, current, now);
      return { inventoryHash: hash, heartbeatIntervalMs: this.deps.policy.heartbeatIntervalMs };
    });
  }

  /**
   * The agent hot path. The common case (a healthy host) is one atomic write
   * (sequence check + time) and one NOTIFY; only a recovering host takes a
   * transaction for its state change and audit event.
   */
  async heartbeat(host: HostRecord, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const now = this.deps.clock.now();
    const current = await this.repos.fabric.recordHeartbeat(host.id, request.seq, now, request.agentVersion);
    if (!current) throw replayed();
    const state = stateOnHeartbeat(current.state)
      ? await this.deps.uow.run(({ fabric, audit }) => this.recoverOnHeartbeat(fabric, audit, current, now))
      : current.state;
    if (state === current.state) {
      await this.repos.fabric.notifyHostChange({ ...changeEvent(current, 'heartbeat'), lastHeartbeatAt: now });
    }
    return {
      state,
      heartbeatIntervalMs: this.deps.policy.heartbeatIntervalMs,
      inventoryRequested: request.inventoryHash !== current.inventoryHash,
    };
  }

  /** A suspect or failed host that is heard from again is connected; audited. Returns the state now. */
  private async recoverOnHeartbeat(
    fabric: FabricRepository,
    audit: AuditRepository,
    host: HostRecord,
    now: Date,
  ): Promise<HostState> {
    const next = stateOnHeartbeat(host.state);
    if (!next) return host.state;
    if (!(await fabric.setState({ hostId: host.id, from: host.state, to: next, at: now, maintenanceReason: null }))) {
      // Someone else (an admin, another heartbeat) changed it first; theirs stands.
      return (await fabric.findHostById(host.id))?.state ?? host.state;
    }
    await audit.append({
      actor: { type: 'agent', id: host.id, label: host.name },
      action: 'host.state',
      targetType: 'host',
      targetId: host.id,
      targetLabel: host.name,
      result: 'success',
      message: `${host.name}: ${host.state} → ${next} (heartbeat received)`,
      details: { from: host.state, to: next },
    });
    await fabric.notifyHostChange({ ...changeEvent(host, 'state'), state: next, lastHeartbeatAt: now });
    return next;
  }

  // ------------------------------------------------------------- admin side

  listHosts(query: ListHostsInput) {
    return this.repos.fabric.listHosts(query);
  }

  async getHost(id: string): Promise<HostDetail> {
    const detail = await this.repos.fabric.getHostDetail(id);
    if (!detail) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
    const events = await this.repos.audit.listForTarget('host', id, 50);
    return { ...detail, events };
  }

  async setMaintenance(actor: Actor, id: string, enabled: boolean, reason: string | undefined): Promise<HostState> {
    const now = this.deps.clock.now();
    return this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      if (enabled === (host.state === 'maintenance')) {
        throw new FabricError(
          'INVALID_STATE',
          enabled ? `${host.name} is already in maintenance` : `${host.name} is not in maintenance`,
        );
      }
      const next = enabled
        ? 'maintenance'
        : stateAfterMaintenance(host.lastHeartbeatAt ?? host.registeredAt, now, this.deps.policy);
      const changed = await fabric.setState({
        hostId: id,
        from: host.state,
        to: next,
        at: now,
        maintenanceReason: enabled ? reason || null : null,
      });
      if (!changed) throw new FabricError('INVALID_STATE', `${host.name} changed state meanwhile; try again`);
      await audit.append({
        actor,
        action: enabled ? 'host.maintenance.enter' : 'host.maintenance.exit',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        result: 'success',
        message: `${host.name}: ${host.state} → ${next}${enabled && reason ? ` (${reason})` : ''}`,
        details: { from: host.state, to: next },
      });
      await fabric.notifyHostChange({ ...changeEvent(host, 'state'), state: next });
      return next;
    });
  }

  /** Removes the host and, with it, its credential: its agent is refused from now on. */
  async removeHost(actor: Actor, id: string): Promise<void> {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      // Removing a host must not orphan VMs (they would keep running with no host on record).
      const vms = await fabric.countVmsOnHost(id);
      if (vms > 0) {
        throw new FabricError(
          'INVALID_STATE',
          `${host.name} still has ${vms} VM${vms === 1 ? '' : 's'}: move or delete ${vms === 1 ? 'it' : 'them'} first`,
        );
      }
      await fabric.deleteHost(id);
      await audit.append({
        actor,
        action: 'host.remove',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        result: 'success',
        details: { clusterId: host.clusterId, lastState: host.state },
      });
      await fabric.notifyHostChange(changeEvent(host, 'removed'));
    });
  }

  overview() {
    return this.repos.fabric.overview();
  }

  /** Balance or pack, and how many vCPUs a logical processor may carry: what placement uses in this cluster. */
  async setPlacementPolicy(actor: Actor, id: string, policy: 'balance' | 'pack', cpuOvercommitRatio: number) {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const cluster = await fabric.findClusterByIdForUpdate(id);
      if (!cluster) throw new FabricError('CLUSTER_NOT_FOUND', 'Cluster not found');
      await fabric.setPlacementPolicy(id, policy, cpuOvercommitRatio);
      await audit.append({
        actor,
        action: 'cluster.placement',
        targetType: 'cluster',
        targetId: id,
        targetLabel: cluster.name,
        result: 'success',
        message: `${cluster.name}: ${policy}, ${cpuOvercommitRatio} vCPUs per logical processor`,
        details: { policy, cpuOvercommitRatio },
      });
    });
    return this.getCluster(id);
  }

  /** Dedicates a host to one tenant (only its VMs are placed there), or shares it again. */
  async setDedication(actor: Actor, id: string, tenantId: string | null) {
    await this.deps.uow.run(async ({ fabric, audit }) => {
      const host = await fabric.findHostById(id);
      if (!host) throw new FabricError('HOST_NOT_FOUND', 'Host not found');
      if (tenantId && !(await fabric.tenantExists(tenantId))) {
        throw new FabricError('INVALID_STATE', 'That tenant does not exist');
      }
      await fabric.setDedication(id, tenantId);
      await audit.append({
        actor,
        action: 'host.dedication',
        targetType: 'host',
        targetId: id,
        targetLabel: host.name,
        tenantId,
        result: 'success',
        message: tenantId ? `${host.name} dedicated to a tenant` : `${host.name} shared again`,
      });
    });
  }

  // ---------------------------------------------------------------- monitor

  /**
   * One pass of the host monitor: moves silent hosts to suspect or failed and
   * audits each change. Runs in one transaction under a Postgres lock, so with
   * several API processes only one pass runs at a time; a pass decides only
   * from stored timestamps, so a restart loses nothing and a repeated pass
   * changes nothing. Returns the changes it made (none when another process
   * held the lock).
   */
  async monitorTick(): Promise<StateChange[]> {
    const now = this.deps.clock.now();
    const { policy } = this.deps;
    return this.deps.uow.run(async ({ fabric, audit }) => {
      if (!(await fabric.tryLock(MONITOR_LOCK))) return [];
      const cutoff = silenceCutoff(now, policy.suspectAfterMissed, policy);
      const silent = await fabric.findSilentHosts(['connected', 'suspect'], cutoff);
      const changes: StateChange[] = [];
      for (const host of silent) {
        const next = nextStateFromSilence(host.state, host.lastHeartbeatAt ?? host.registeredAt, now, policy);
        if (!next) continue;
        const threshold = next === 'failed' ? policy.failedAfterMissed : policy.suspectAfterMissed;
        const moved = await fabric.setState({
          hostId: host.id,
          from: host.state,
          to: next,
          at: now,
          maintenanceReason: null,
          // A heartbeat that committed since the read above wins.
          silentBefore: silenceCutoff(now, threshold, policy),
        });
        if (!moved) continue;
        const missed = Math.floor(
          (now.getTime() - (host.lastHeartbeatAt ?? host.registeredAt).getTime()) / policy.heartbeatIntervalMs,
        );
        await audit.append({
          actor: SYSTEM_ACTOR,
          action: 'host.state',
          targetType: 'host',
          targetId: host.id,
          targetLabel: host.name,
          result: 'success',
          message: `${host.name}: ${host.state} → ${next} (${missed} heartbeats missed)`,
          details: { from: host.state, to: next, missedHeartbeats: missed },
        });
        await fabric.notifyHostChange({ ...changeEvent(host, 'state'), state: next });
        changes.push({ hostId: host.id, name: host.name, from: host.state, to: next });
      }
      return changes;
    });
  }
}

function replayed(): FabricError {
  return new FabricError(
    'REPLAYED',
    'Message sequence number is not above the last accepted one (replayed or reordered)',
  );
}

function changeEvent(host: HostRecord, kind: HostChangeEvent['kind']): HostChangeEvent {
  return { hostId: host.id, name: host.name, state: host.state, lastHeartbeatAt: host.lastHeartbeatAt, kind };
}
