import { z } from 'zod';

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
export { egress, ingress, type Packet, SwitchState, type WirePacket } from './switch';

const item = z.record(z.string(), z.unknown());
const policy = z.record(z.string().max(200), item);
const delta = z.object({
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  set: policy,
  remove: z.array(z.string()),
  digest: z.string(),
});

export const networkPolicyPullSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('current'), version: z.number().int(), digest: z.string() }),
  z.object({ kind: z.literal('deltas'), version: z.number().int(), digest: z.string(), deltas: z.array(delta) }),
  z.object({ kind: z.literal('full'), version: z.number().int(), digest: z.string(), policy }),
]);
