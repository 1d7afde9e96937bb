import type { HostPolicy } from './compile';
import {
  type EgressResult,
  egress,
  type IngressResult,
  ingress,
  type Metered,
  type Packet,
  SwitchState,
  type Verdict,
  type WirePacket,
} from './switch';

/**
 * A trace asked of the agents' switches (issue 13, "Fabric asks the agents'
 * switches to trace the packet through their actual compiled state"): the
 * source host's agent runs the packet through the policy it applied (egress),
 * then the host that answers to the outer destination PA runs the
 * encapsulated packet (ingress). Each hop says which version the host
 * applied against the version Fabric compiled. A host that lags is still
 * asked (its verdict is what the network does now) and Fabric's own verdict
 * over the compiled policy is put beside it; a host whose agent does not
 * answer by the deadline gets Fabric's verdict, marked as computed, so the
 * trace can go on.
 */

export type TraceQuestion = { hop: 'egress'; packet: Packet } | { hop: 'ingress'; wire: WirePacket };

/** What a host's agent answered: the policy version (and digest) it traced through, and the switch's result. */
export interface TraceAnswer {
  version: number;
  digest: string;
  result: EgressResult | IngressResult;
}

/** Asks a host's agent to trace one hop through the policy it applied; null when it did not answer in time. */
export type AskAgent = (hostId: string, question: TraceQuestion) => Promise<TraceAnswer | null>;

/** A host's policy as Fabric compiled it (its latest version). */
export interface CompiledHost {
  hostId: string;
  version: number;
  digest: string;
  policy: HostPolicy;
}

export interface HostHop {
  hostId: string;
  stage: 'egress' | 'ingress';
  /** Whose verdicts the path followed: the host's agent, or Fabric's computation when the agent did not answer. */
  answeredBy: 'agent' | 'fabric';
  /** current: the agent traced through the compiled version; lagging: through an older one; no-answer: silent. */
  status: 'current' | 'lagging' | 'no-answer';
  /** The version the agent traced through (null: no answer). */
  appliedVersion: number | null;
  compiledVersion: number;
  ok: boolean;
  verdicts: Verdict[];
  /** Fabric's verdict for the same packet over the compiled policy, beside the agent's when they may differ. */
  computed: { ok: boolean; rule: string } | null;
}

export interface AgentTraceResult {
  delivered: boolean;
  toNic?: string | undefined;
  rdid?: string | undefined;
  tenantId?: string | undefined;
  /** Every verdict in path order (egress, wire, ingress), as the hosts' switches gave them. */
  hops: Verdict[];
  /** Per host on the path: who answered, at which version. */
  hosts: HostHop[];
  metered: Metered[];
}

function finalVerdict(verdicts: readonly Verdict[]): { ok: boolean; rule: string } {
  const last = verdicts.at(-1);
  return { ok: !verdicts.some((v) => !v.ok), rule: last?.rule ?? 'no verdict' };
}

async function askHop<R extends EgressResult | IngressResult>(
  host: CompiledHost,
  stage: 'egress' | 'ingress',
  ask: AskAgent,
  question: TraceQuestion,
  compute: (state: SwitchState) => R,
  states: Map<string, SwitchState>,
): Promise<{ result: R; hop: HostHop }> {
  const answer = await ask(host.hostId, question).catch(() => null);
  const computed = compute(stateOf(host, states));
  const computedVerdict = finalVerdict(computed.verdicts);
  if (!answer) {
    return {
      result: computed,
      hop: {
        hostId: host.hostId,
        stage,
        answeredBy: 'fabric',
        status: 'no-answer',
        appliedVersion: null,
        compiledVersion: host.version,
        ok: computed.kind !== 'drop',
        verdicts: computed.verdicts,
        computed: null,
      },
    };
  }
  // The agent's hop is what its switch does: its verdicts name this host whatever it calls itself.
  const verdicts = answer.result.verdicts.map((v) => ({ ...v, hostId: host.hostId }));
  const result = { ...answer.result, verdicts } as R;
  const status = answer.digest === host.digest ? 'current' : 'lagging';
  const agentVerdict = finalVerdict(verdicts);
  const differs = agentVerdict.ok !== computedVerdict.ok || agentVerdict.rule !== computedVerdict.rule;
  return {
    result,
    hop: {
      hostId: host.hostId,
      stage,
      answeredBy: 'agent',
      status,
      appliedVersion: answer.version,
      compiledVersion: host.version,
      ok: result.kind !== 'drop',
      verdicts,
      computed: status !== 'current' || differs ? computedVerdict : null,
    },
  };
}

function stateOf(host: CompiledHost, states: Map<string, SwitchState>): SwitchState {
  let state = states.get(host.hostId);
  if (!state) {
    state = new SwitchState(host.hostId, host.policy);
    states.set(host.hostId, state);
  }
  return state;
}

/**
 * Traces `packet` from the VM port on `fromHost` through the hosts' agents.
 * The next hop is found from the wire packet the source agent produced (its
 * outer destination PA) among the hosts' compiled PAs.
 */
export async function traceThroughAgents(
  fromHost: string,
  hosts: ReadonlyMap<string, CompiledHost>,
  packet: Packet,
  ask: AskAgent,
): Promise<AgentTraceResult> {
  const states = new Map<string, SwitchState>();
  const src = hosts.get(fromHost) ?? { hostId: fromHost, version: 0, digest: '', policy: {} };
  const out = await askHop(src, 'egress', ask, { hop: 'egress', packet }, (s) => egress(s, packet), states);
  const hostHops = [out.hop];
  const hops = [...out.result.verdicts];
  if (out.result.kind === 'drop') return { delivered: false, hops, hosts: hostHops, metered: [] };
  const wire = out.result.wire;
  let dst: CompiledHost | undefined;
  if (out.result.kind === 'local') dst = src;
  else for (const h of hosts.values()) if (stateOf(h, states).ownsPa(wire.outerDst)) dst = h;
  if (!dst) {
    hops.push({ hostId: fromHost, stage: 'wire', ok: false, rule: `no host answers to PA ${wire.outerDst}` });
    return { delivered: false, hops, hosts: hostHops, metered: out.result.metered };
  }
  const key = wire.encapsulation === 'gre' ? `GRE key ${wire.greKey}` : 'IP rewrite';
  hops.push({
    hostId: fromHost,
    stage: 'wire',
    ok: true,
    rule:
      out.result.kind === 'local'
        ? 'same host: no wire'
        : `on the wire to ${dst.hostId} (${wire.outerSrc} → ${wire.outerDst}, ${key})`,
  });
  const inn = await askHop(dst, 'ingress', ask, { hop: 'ingress', wire }, (s) => ingress(s, wire), states);
  hostHops.push(inn.hop);
  hops.push(...inn.result.verdicts);
  if (inn.result.kind === 'drop') return { delivered: false, hops, hosts: hostHops, metered: out.result.metered };
  return {
    delivered: true,
    toNic: inn.result.toNic,
    rdid: inn.result.rdid,
    tenantId: inn.result.tenantId,
    hops,
    hosts: hostHops,
    metered: [...out.result.metered, ...inn.result.metered],
  };
}
