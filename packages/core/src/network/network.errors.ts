import { CoreError } from '../shared/errors';

/**
 * Each refusal names the rule it breaks (issue 13: "a clear 4xx naming the
 * rule, and nothing is written").
 */
export type NetworkErrorCode =
  | 'SUBNET_OVERLAP'
  | 'CA_OUTSIDE_SUBNET'
  | 'CA_RESERVED'
  | 'CA_IN_USE'
  | 'VLAN_OUT_OF_RANGE'
  | 'VSID_OUT_OF_RANGE'
  | 'VSID_IN_USE'
  | 'VSID_ALLOCATED_BY_FABRIC'
  | 'POOL_EXHAUSTED'
  /** A PVLAN with no mode (`pvlan: {}`): clearing one is `pvlan: null`. */
  | 'PVLAN_MODE_REQUIRED'
  /** A PVLAN of any mode without its primary VLAN. */
  | 'PVLAN_PRIMARY_REQUIRED'
  /** An isolated or community PVLAN without the secondary VLAN it lives in. */
  | 'PVLAN_SECONDARY_REQUIRED'
  | 'INVALID_PREFIX'
  | 'INVALID_ADDRESS'
  | 'TRUNK_NATIVE_NOT_ALLOWED'
  /** Port settings that contradict each other (PVLAN and trunk on one port, a VLAN listed twice). */
  | 'PORT_POLICY_CONFLICT'
  | 'MIRROR_DESTINATION_UNKNOWN'
  | 'QOS_MINIMUM_ABOVE_MAXIMUM'
  | 'VM_NETWORK_NOT_FOUND'
  | 'SUBNET_NOT_FOUND'
  /** A VM id that is not the caller's (or no VM at all): like every other cross-tenant read. */
  | 'VM_NOT_FOUND'
  | 'LOGICAL_NETWORK_NOT_FOUND'
  | 'EXTENSION_VETO'
  /** A VM network or subnet with VM NICs attached cannot be deleted or re-addressed. */
  | 'NETWORK_IN_USE';

export class NetworkError extends CoreError<NetworkErrorCode> {
  readonly module = 'network';
}
