import { FabricError } from './fabric.errors';
import type { FabricServiceDeps } from './fabric-deps';
import type { HostRecord } from './fabric-repository';
import { parseHostCredential, secretMatches } from './secrets';

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

/** Resolves an agent's bearer credential to its host, with a short memory for the samples hot path. */
export class AgentAuthenticator {
  /** Per host id, the credential last verified (see authenticateAgentForWrite). */
  private readonly verifiedCredentials = new Map<string, VerifiedCredential>();

  constructor(private readonly deps: FabricServiceDeps) {}

  private get repos() {
    return this.deps.uow.repos;
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

  /**
   * A write that checked the credential again itself (a heartbeat's) found it still the host's: as good
   * as a fresh read, so its memory starts over. With 10 s heartbeats and a 30 s memory, one heartbeat in
   * three would otherwise read the credential.
   */
  confirmCredential(agent: AgentCredential): void {
    const entry = this.verifiedCredentials.get(agent.host.id);
    if (entry && entry.secretHash === agent.secretHash)
      entry.until = this.deps.clock.now().getTime() + CREDENTIAL_CACHE_MS;
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
      // Anyone can send a bad credential: written within the refusal budget (audit/refusal-budget.ts).
      await this.repos.audit.appendRefusal({
        actor: { type: 'agent', id: null, label: source },
        action: 'agent.authenticate',
        targetType: 'host',
        targetId: pathHostId,
        result: 'denied',
        message: 'Invalid or revoked host credential',
        details: { source },
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
}
