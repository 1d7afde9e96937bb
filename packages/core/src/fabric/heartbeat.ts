import type { AuditRepository } from '../audit/audit-repository';
import type { HeartbeatRequest, HeartbeatResponse, InventoryRequest, InventoryResponse } from './agent-protocol.schema';
import type { AgentCredential } from './authenticate-agent';
import { FabricError } from './fabric.errors';
import { changeEvent, type FabricServiceDeps } from './fabric-deps';
import type { FabricRepository, HostRecord } from './fabric-repository';
import { type HostState, stateOnHeartbeat } from './host-state';
import { inventoryHash } from './inventory-hash';

/** What an authenticated agent reports: heartbeats, inventory, and the sequence numbers that order them. */
export class AgentReports {
  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
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
   * The agent hot path (every host, every interval). The agent was
   * authenticated from a short memory (authenticateAgentForWrite); the
   * write checks the credential again, accepts `seq` and records the time,
   * and the recorder may group it with other hosts' heartbeats. A healthy
   * host's heartbeat is then announced (grouped too); only a recovering
   * host takes a transaction for its state change and audit event.
   */
  async heartbeat(agent: AgentCredential, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const now = this.deps.clock.now();
    const outcome = await this.deps.heartbeats.record({
      hostId: agent.host.id,
      credentialHash: agent.secretHash,
      seq: request.seq,
      at: now,
      agentVersion: request.agentVersion,
    });
    if (outcome.kind === 'replayed') throw replayed();
    if (outcome.kind === 'credential-invalid') {
      // Removed or re-registered after the credential was last verified.
      await this.repos.audit.append({
        actor: { type: 'agent', id: null, label: agent.source },
        action: 'agent.authenticate',
        targetType: 'host',
        targetId: agent.host.id,
        result: 'denied',
        message: 'Invalid or revoked host credential',
      });
      throw new FabricError('CREDENTIAL_INVALID', 'Invalid or revoked host credential');
    }
    const current = outcome.host;
    const state = stateOnHeartbeat(current.state)
      ? await this.deps.uow.run(({ fabric, audit }) => this.recoverOnHeartbeat(fabric, audit, current, now))
      : current.state;
    if (state === current.state) {
      await this.deps.heartbeats.announce({ ...changeEvent(current, 'heartbeat'), lastHeartbeatAt: now });
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
}

function replayed(): FabricError {
  return new FabricError(
    'REPLAYED',
    'Message sequence number is not above the last accepted one (replayed or reordered)',
  );
}
