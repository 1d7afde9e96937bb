import { describe, expect, it } from 'vitest';
import { type AskAgent, type CompiledHost, type TraceAnswer, traceThroughAgents } from './agent-trace';
import { compileAll, type HostPolicy, policyDigest } from './compile';
import { egress, ingress, type Packet, SwitchState } from './switch';
import { blueYellowFabric } from './testing';

// A trace asks each host's agent, which answers from the policy it applied;
// the compiled policy is Fabric's. Blue WEB (host-2) → Blue SQL (host-1).

const packet: Packet = {
  fromNic: 'blue-web',
  kind: 'ip',
  srcMac: '00-15-5D-00-00-02',
  srcCa: '10.1.1.2',
  dstCa: '10.1.1.1',
  protocol: 'tcp',
  dstPort: 1433,
  bytes: 64,
};

const deny = [{ direction: 'inbound', action: 'deny', remote: { prefix: '10.1.1.0/24' } }] as const;

function compiledWith(policyOfSql: 'open' | 'deny'): Map<string, HostPolicy> {
  const input = blueYellowFabric();
  if (policyOfSql === 'deny')
    input.vnics = input.vnics.map((n) =>
      n.nicId === 'blue-sql' ? { ...n, policy: { ...n.policy, acls: [...deny] } } : n,
    );
  return compileAll(input);
}

function hostsOf(policies: Map<string, HostPolicy>, version: number): Map<string, CompiledHost> {
  return new Map(
    [...policies].map(([hostId, policy]) => [hostId, { hostId, version, digest: policyDigest(policy), policy }]),
  );
}

/** Agents that trace through `applied` (each host's own), at `version`; `silent` hosts never answer. */
function agents(applied: Map<string, HostPolicy>, version: number, silent: string[] = []): AskAgent {
  return async (hostId, question): Promise<TraceAnswer | null> => {
    if (silent.includes(hostId)) return null;
    const policy = applied.get(hostId) ?? {};
    const state = new SwitchState('self', policy);
    const result = question.hop === 'egress' ? egress(state, question.packet) : ingress(state, question.wire);
    return { version, digest: policyDigest(policy), result };
  };
}

describe('traces asked of the agents', () => {
  it("follows the agents' answers across the wire when they applied the compiled policy", async () => {
    const compiled = compiledWith('open');
    const t = await traceThroughAgents('host-2', hostsOf(compiled, 4), packet, agents(compiled, 4));
    expect(t.delivered).toBe(true);
    expect(t.toNic).toBe('blue-sql');
    expect(t.hosts.map((h) => [h.hostId, h.stage, h.answeredBy, h.status, h.computed])).toEqual([
      ['host-2', 'egress', 'agent', 'current', null],
      ['host-1', 'ingress', 'agent', 'current', null],
    ]);
    // Verdicts name the host that was asked, whatever the agent calls itself.
    expect(t.hops.every((h) => h.hostId === 'host-2' || h.hostId === 'host-1')).toBe(true);
    expect(t.hops.find((h) => h.stage === 'wire')?.rule).toBe(
      'on the wire to host-1 (192.168.1.2 → 192.168.1.1, GRE key 5001)',
    );
  });

  it("a lagging agent's own verdict decides, with its version and Fabric's verdict beside it", async () => {
    const compiled = compiledWith('deny');
    const old = compiledWith('open');
    const ask: AskAgent = async (hostId, q) =>
      hostId === 'host-1' ? agents(old, 3)(hostId, q) : agents(compiled, 4)(hostId, q);
    const t = await traceThroughAgents('host-2', hostsOf(compiled, 4), packet, ask);
    expect(t.delivered).toBe(true); // what the network does now
    expect(t.hosts[1]).toMatchObject({
      hostId: 'host-1',
      answeredBy: 'agent',
      status: 'lagging',
      appliedVersion: 3,
      compiledVersion: 4,
      ok: true,
      computed: { ok: false, rule: 'dropped by blue-sql inbound ACL deny 10.1.1.0/24' },
    });
    expect(t.hosts[0]).toMatchObject({ status: 'current', computed: null });
  });

  it("a silent agent's hop is Fabric's computation over the compiled policy, marked so", async () => {
    const compiled = compiledWith('deny');
    for (const ask of [agents(compiled, 4, ['host-1']), (async () => Promise.reject(new Error('gone'))) as AskAgent]) {
      const t = await traceThroughAgents('host-2', hostsOf(compiled, 4), packet, ask);
      expect(t.delivered).toBe(false);
      expect(t.hosts.at(-1)).toMatchObject({
        hostId: 'host-1',
        answeredBy: 'fabric',
        status: 'no-answer',
        appliedVersion: null,
        computed: null,
      });
      expect(t.hops.at(-1)?.rule).toBe('dropped by blue-sql inbound ACL deny 10.1.1.0/24');
    }
  });

  it('an agent that dropped at egress ends the trace at its host', async () => {
    const compiled = compiledWith('open');
    const spoofed = { ...packet, srcCa: '10.1.1.9' };
    const t = await traceThroughAgents('host-2', hostsOf(compiled, 1), spoofed, agents(compiled, 1));
    expect(t.delivered).toBe(false);
    expect(t.hosts).toHaveLength(1);
    expect(t.hops.at(-1)?.rule).toBe('dropped by blue-web IP spoofing protection');
  });
});
