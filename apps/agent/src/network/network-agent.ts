import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  applyDelta,
  egress,
  type HostPolicy,
  ingress,
  networkPolicyPullSchema,
  type PolicyDelta,
  type PortItem,
  type PortQos,
  policyDigest,
  SwitchState,
  type TraceAnswerMessage,
  type TraceQuestionMessage,
} from '@fabric/core/network/network-protocol.schema';
import type { PortMeters } from '../drivers/simulated/port-meters';
import { portKey } from '../drivers/simulated/simulated-switch';
import type { Logger } from '../log';
import { sleep } from '../sleep';
import { type StateStore, writeFileAtomic } from '../state-store';

type PullAnswer = (
  | { kind: 'current'; version: number; digest: string }
  | { kind: 'deltas'; version: number; digest: string; deltas: PolicyDelta[] }
  | { kind: 'full'; version: number; digest: string; policy: HostPolicy }
) & { traces?: TraceQuestionMessage[] | undefined };

/** A routing-domain item of the applied policy, as far as the meters read it. */
type RoutingDomainLike = { subnets?: { vsid: number; gateway: string }[] };

/** Trace ids answered lately: a question handed out by two API processes is answered once. */
const REMEMBERED_TRACES = 256;

/**
 * The agent's half of tenant networks (docs/agent-protocol.md, "Network
 * policy"): long-polls its host's compiled policy, applies the deltas (or the
 * whole policy), checks the digest, keeps it in the state dir
 * (network-policy.json: what this host's switch enforces), rebuilds its
 * simulated switch from it, and acknowledges the version. A digest mismatch
 * asks for the whole policy again (applied = 0).
 *
 * The same long poll hands out trace questions (agent-trace.ts): the agent
 * runs each packet through the switch it applied and posts the result with
 * its applied version, so a trace shows what this host does, not what Fabric
 * compiled for it.
 *
 * Simulated fault: while `network-policy.hold` exists in the state dir the
 * agent applies no new version (a host whose switch cannot be programmed);
 * it keeps answering traces with the policy it has, as a lagging host would.
 */
export class NetworkAgent {
  private policy: HostPolicy = {};
  private version = 0;
  private digest = policyDigest({});
  private sw: SwitchState | null = null;
  private readonly answered: string[] = [];
  private holding = false;
  readonly file: string;
  readonly holdFile: string;

  constructor(
    private readonly options: { apiUrl: string; store: StateStore; stateDir: string; log: Logger; waitMs?: number },
  ) {
    this.file = path.join(options.stateDir, 'network-policy.json');
    this.holdFile = path.join(options.stateDir, 'network-policy.hold');
  }

  /**
   * Each port's QoS as applied now, by `<vmId>/<MAC>` (the simulated switch shares the host's NICs with it).
   * A port without QoS in the policy is absent, so the VM's own settings apply to it.
   */
  portQos(): Map<string, PortQos> {
    const out = new Map<string, PortQos>();
    for (const [key, item] of Object.entries(this.policy)) {
      if (!key.startsWith('port/')) continue;
      const port = item as PortItem;
      if (port.qos && typeof port.vmId === 'string' && typeof port.mac === 'string')
        out.set(portKey(port.vmId, port.mac), port.qos);
    }
    return out;
  }

  /**
   * The ports whose applied policy meters traffic (a meter ACL), by `<vmId>/<MAC>`, with the addresses
   * their VM talks to in its VM network: the simulated switch counts their bytes per metered class.
   */
  portMeters(): Map<string, PortMeters> {
    const out = new Map<string, PortMeters>();
    for (const [key, item] of Object.entries(this.policy)) {
      if (!key.startsWith('port/')) continue;
      const port = item as PortItem;
      if (!port.policy?.acls?.some((a) => a.action === 'meter')) continue;
      const prefix = `ca/${port.rdid}/`;
      const peers = Object.keys(this.policy)
        .filter((k) => k.startsWith(prefix) && k.slice(prefix.length) !== port.ca)
        .map((k) => k.slice(prefix.length));
      const rd = this.policy[`rd/${port.rdid}`] as RoutingDomainLike | undefined;
      const gateway = rd?.subnets?.find((s) => s.vsid === port.vsid)?.gateway;
      out.set(portKey(port.vmId, port.mac), {
        acls: port.policy.acls,
        peers: peers.length > 0 ? peers : gateway ? [gateway] : [],
      });
    }
    return out;
  }

  /** The switch as applied now (null before the first policy). */
  get switchState(): SwitchState | null {
    return this.sw;
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.restore();
    let backoff = 250;
    while (!signal.aborted) {
      const credential = await this.options.store.loadCredential().catch(() => null);
      if (!credential) {
        await sleep(500, signal).catch(() => undefined);
        continue;
      }
      try {
        const answer = await this.pull(credential.hostId, credential.credential, signal);
        if (await this.held()) {
          // Answer what was asked with the policy as it is, then look again shortly (the API
          // answers at once while a newer version waits, so polling on would spin).
          await this.answerTraces(answer.traces, credential.hostId, credential.credential, signal);
          if (answer.version !== this.version) await sleep(500, signal).catch(() => undefined);
          continue;
        }
        if (answer.kind !== 'current' || answer.version !== this.version) {
          this.adopt(answer);
          if (this.digest !== answer.digest) {
            this.options.log.warn(
              `network policy v${answer.version}: digest mismatch after applying; asking for the whole policy`,
            );
            this.version = 0;
            continue;
          }
          await writeFileAtomic(
            this.file,
            JSON.stringify({ version: this.version, digest: this.digest, policy: this.policy }),
          );
          await this.ack(credential.hostId, credential.credential, signal);
        } else if (answer.digest !== this.digest) {
          this.version = 0; // same version, other content: start again from the whole policy
          continue;
        }
        await this.answerTraces(answer.traces, credential.hostId, credential.credential, signal);
        backoff = 250;
      } catch (error) {
        if (signal.aborted) return;
        this.options.log.warn(`network policy: ${error instanceof Error ? error.message : String(error)}; retrying`);
        await sleep(backoff, signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private async held(): Promise<boolean> {
    const held = await access(this.holdFile).then(
      () => true,
      () => false,
    );
    if (held !== this.holding)
      this.options.log.warn(
        held
          ? `network policy: ${this.holdFile} exists; holding at v${this.version} (simulated fault)`
          : 'network policy: hold released; applying again',
      );
    this.holding = held;
    return held;
  }

  /** Traces one hop through the switch as applied now (an empty switch before the first policy). */
  traceHop(question: TraceQuestionMessage): TraceAnswerMessage {
    const state = this.sw ?? new SwitchState('self', {});
    const result = question.hop === 'egress' ? egress(state, question.packet) : ingress(state, question.wire);
    return { traceId: question.traceId, version: this.version, digest: this.digest, result };
  }

  private async answerTraces(
    questions: readonly TraceQuestionMessage[] | undefined,
    hostId: string,
    credential: string,
    signal: AbortSignal,
  ): Promise<void> {
    for (const question of questions ?? []) {
      if (this.answered.includes(question.traceId)) continue;
      this.answered.push(question.traceId);
      if (this.answered.length > REMEMBERED_TRACES) this.answered.shift();
      const res = await fetch(`${this.options.apiUrl.replace(/\/+$/, '')}/agent/v1/hosts/${hostId}/network-trace`, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
        body: JSON.stringify(this.traceHop(question)),
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      });
      // A trace nobody waits for any more is not worth a retry; the asker already fell back.
      if (!res.ok) this.options.log.warn(`network trace ${question.traceId}: HTTP ${res.status}`);
    }
  }

  private adopt(answer: PullAnswer): void {
    if (answer.kind === 'full') this.policy = answer.policy;
    else if (answer.kind === 'deltas') for (const d of answer.deltas) this.policy = applyDelta(this.policy, d);
    this.version = answer.version;
    this.digest = policyDigest(this.policy);
    this.sw = new SwitchState('self', this.policy);
  }

  private async restore(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as {
        version: number;
        digest: string;
        policy: HostPolicy;
      };
      if (policyDigest(saved.policy) === saved.digest) {
        this.policy = saved.policy;
        this.version = saved.version;
        this.digest = saved.digest;
        this.sw = new SwitchState('self', this.policy);
      }
    } catch {
      // none yet
    }
  }

  private async pull(hostId: string, credential: string, signal: AbortSignal): Promise<PullAnswer> {
    const waitMs = this.options.waitMs ?? 20_000;
    const url = `${this.options.apiUrl.replace(/\/+$/, '')}/agent/v1/hosts/${hostId}/network-policy?applied=${this.version}&waitMs=${waitMs}`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${credential}`, accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(waitMs + 10_000)]),
    });
    if (!res.ok) throw new Error(`GET network-policy: HTTP ${res.status}`);
    const parsed = networkPolicyPullSchema.safeParse(await res.json());
    if (!parsed.success) throw new Error('GET network-policy: not a network-policy answer');
    return parsed.data as PullAnswer;
  }

  private async ack(hostId: string, credential: string, signal: AbortSignal): Promise<void> {
    const res = await fetch(`${this.options.apiUrl.replace(/\/+$/, '')}/agent/v1/hosts/${hostId}/network-policy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: this.version, digest: this.digest }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    if (!res.ok) throw new Error(`POST network-policy ack: HTTP ${res.status}`);
  }
}
