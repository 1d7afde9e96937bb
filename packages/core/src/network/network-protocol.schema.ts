import { z } from 'zod';
import { oneOf } from '../shared/text.schema';

/**
 * The network-policy channel between Fabric and agents (docs/agent-protocol.md,
 * "Network policy"): the pull answer's shape, and the policy format's
 * semantics the agent must share with Fabric. The agent imports core only
 * through protocol files; the switch semantics are part of this protocol
 * (the isolation proof holds only if agents forward exactly as the verifier
 * does, and a port's QoS means what Fabric admitted), so they are exported
 * from here rather than copied into the agent.
 */
export { applyDelta, type HostPolicy, type PolicyDelta, type PortItem, policyDigest } from './compile';
export {
  effectiveQos,
  type PortQos,
  type QosFlow,
  type QosShare,
  shareBandwidth,
  shareHost,
} from './qos';
export { egress, evaluateAcls, ingress, type Packet, SwitchState, type WirePacket } from './switch';

const item = z.record(z.string(), z.unknown());
const policy = z.record(z.string().max(200), item);
const delta = z.object({
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  set: policy,
  remove: z.array(z.string()),
  digest: z.string(),
});

// Traces asked of the agent's switch (agent-trace.ts): a packet at the source port (egress) or an
// encapsulated one off the wire (ingress), and the switch's result for it.
const short = (max: number) => z.string().max(max);
const packetSchema = z.object({
  fromNic: short(100),
  kind: oneOf('packet kind', ['ip', 'arp', 'dhcp-server', 'router-advertisement']),
  srcMac: short(32),
  srcCa: short(64),
  dstCa: short(64),
  protocol: oneOf('protocol', ['tcp', 'udp', 'icmp']),
  dstPort: z.number().int().min(0).max(65_535).optional(),
  vlan: z.number().int().min(0).max(4095).optional(),
  bytes: z.number().int().min(0).max(1_000_000),
});
const wireSchema = z.object({
  outerSrc: short(64),
  outerDst: short(64),
  encapsulation: oneOf('encapsulation', ['gre', 'ip-rewrite']),
  greKey: z.number().int().min(0).max(16_777_215).optional(),
  inner: packetSchema,
});
const verdictSchema = z.object({
  hostId: short(100),
  stage: oneOf('stage', ['egress', 'wire', 'ingress']),
  ok: z.boolean(),
  rule: short(500),
  detail: short(500).optional(),
});
const verdicts = z.array(verdictSchema).max(16, 'at most 16 verdicts per hop');
const metered = z
  .array(
    z.object({
      nicId: short(100),
      direction: oneOf('direction', ['inbound', 'outbound']),
      meterClass: short(100),
      bytes: z.number().int().min(0),
    }),
  )
  .max(32, 'at most 32 meters per hop');

/** One hop for the agent to trace, handed out in the policy pull's `traces`. */
export const traceQuestionSchema = z.discriminatedUnion(
  'hop',
  [
    z.object({ traceId: z.uuid(), hop: z.literal('egress'), packet: packetSchema }),
    z.object({ traceId: z.uuid(), hop: z.literal('ingress'), wire: wireSchema }),
  ],
  { error: 'A trace question is { traceId, hop: "egress", packet } or { traceId, hop: "ingress", wire }' },
);
export type TraceQuestionMessage = z.infer<typeof traceQuestionSchema>;

/** `POST /agent/v1/hosts/{hostId}/network-trace`: the switch's result, at the version it applied. */
export const traceAnswerSchema = z.object({
  traceId: z.uuid('traceId must be the UUID the question carried'),
  version: z.number().int().min(0),
  digest: short(128),
  result: z.discriminatedUnion(
    'kind',
    [
      z.object({ kind: z.literal('drop'), verdicts }),
      z.object({ kind: z.literal('wire'), wire: wireSchema, verdicts, metered }),
      z.object({ kind: z.literal('local'), wire: wireSchema, verdicts, metered }),
      z.object({
        kind: z.literal('deliver'),
        toNic: short(100),
        vmName: short(200),
        tenantId: short(100),
        rdid: short(100),
        mirroredTo: z.array(short(100)).max(64),
        verdicts,
        metered,
      }),
    ],
    { error: "A trace result is { kind } with kind one of drop, wire, local or deliver, and that kind's fields" },
  ),
});
export type TraceAnswerMessage = z.infer<typeof traceAnswerSchema>;

const traces = z.array(traceQuestionSchema).max(32).optional();
export const networkPolicyPullSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('current'), version: z.number().int(), digest: z.string(), traces }),
    z.object({
      kind: z.literal('deltas'),
      version: z.number().int(),
      digest: z.string(),
      deltas: z.array(delta),
      traces,
    }),
    z.object({ kind: z.literal('full'), version: z.number().int(), digest: z.string(), policy, traces }),
  ],
  { error: "A policy answer is { kind } with kind one of current, deltas or full, and that kind's fields" },
);
