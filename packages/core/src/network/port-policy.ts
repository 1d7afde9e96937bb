import { checkPortPolicy, pvlanFromFields } from './ipam';
import { DEFAULT_PORT_POLICY, type PortPolicy } from './network';
import type { PortPolicyInput, PortPolicyPatch } from './network.schema';

/**
 * A port policy after a change: a field the patch leaves out keeps its value
 * in `current`, null puts it back to DEFAULT_PORT_POLICY's (which has no
 * PVLAN, trunk or bandwidth setting), and a value replaces it (a PVLAN, a
 * trunk and the ACL list whole). The result is checked as a whole, so a
 * change that would leave the port contradicting itself (a trunk added to a
 * PVLAN port) is refused like one that contradicts itself.
 */
export function patchPortPolicy(current: Partial<PortPolicy>, patch: PortPolicyPatch): PortPolicy {
  const base: PortPolicy = { ...DEFAULT_PORT_POLICY, ...current };
  const pick = <K extends keyof PortPolicy>(key: K, value: PortPolicy[K] | null | undefined): PortPolicy[K] =>
    value === undefined ? base[key] : value === null ? DEFAULT_PORT_POLICY[key] : value;
  const policy: PortPolicy = {
    macSpoofing: pick('macSpoofing', patch.macSpoofing),
    dhcpGuard: pick('dhcpGuard', patch.dhcpGuard),
    routerGuard: pick('routerGuard', patch.routerGuard),
    arpGuard: pick('arpGuard', patch.arpGuard),
    acls: pick('acls', patch.acls),
    mirroring: pick('mirroring', patch.mirroring),
    pvlan: patch.pvlan ? pvlanFromFields(patch.pvlan) : pick('pvlan', patch.pvlan),
    trunk: pick('trunk', patch.trunk),
    maximumBandwidthMbps: pick('maximumBandwidthMbps', patch.maximumBandwidthMbps),
    minimumBandwidthWeight: pick('minimumBandwidthWeight', patch.minimumBandwidthWeight),
  };
  checkPortPolicy(policy);
  return policy;
}

/** A whole policy as the API gives it (attachNic): every field left out is the default. */
export function toPortPolicy(input: PortPolicyInput): PortPolicy {
  return patchPortPolicy(DEFAULT_PORT_POLICY, input);
}
