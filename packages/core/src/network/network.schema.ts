import { z } from 'zod';
import { flag, oneOf, text } from '../shared/text.schema';
import { parseIpv4, reservedRangeProblem } from './ip';
import { VLAN_MAX, VLAN_MIN, VSID_MAX, VSID_MIN } from './network';

/** API inputs and outputs of tenant networks. Limits are named in messages; the rules of ipam.ts are checked again in the service. */

export const MAX_VM_NETWORKS_PER_TENANT = 64;
export const MAX_SUBNETS_PER_VM_NETWORK = 64;
export const MAX_ACLS_PER_PORT = 32;

const name = (label: string) =>
  text(label, { min: 1, max: 64 }).regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    `${label}: letters, digits, ".", "_" or "-", starting with a letter or digit`,
  );
const IPV4_SHAPE = /^\d{1,3}(\.\d{1,3}){3}$/;
/** Four numbers of 0–255 (ip.ts's parser): "999.1.1.1" has the shape but is no address (rule INVALID_ADDRESS). */
const ipv4 = (label: string) =>
  z
    .string()
    .max(15, `${label} is at most 15 characters`)
    .regex(IPV4_SHAPE, `${label} must be an IPv4 address such as 10.1.1.5`)
    .superRefine((value, ctx) => {
      if (IPV4_SHAPE.test(value) && parseIpv4(value) === null)
        ctx.addIssue({
          code: 'custom',
          message: `${label} ${value} is not an IPv4 address: each of its four numbers is 0–255, without leading zeros (rule INVALID_ADDRESS)`,
        });
    });
const prefix = (label: string) =>
  z
    .string()
    .max(18, `${label} is at most 18 characters`)
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, `${label} must be an IPv4 prefix such as 10.1.1.0/24`);
/** A prefix that addresses VMs or hosts: a unicast range (rule RESERVED_RANGE), e.g. not 127.0.0.0/24. */
const unicastPrefix = (label: string, holder: string) =>
  prefix(label).superRefine((value, ctx) => {
    const problem = reservedRangeProblem(value);
    if (problem)
      ctx.addIssue({ code: 'custom', message: `${problem}: ${holder} needs a unicast range (rule RESERVED_RANGE)` });
  });
const vlan = (label: string) =>
  z
    .number({ error: `${label} must be a number` })
    .int(`${label} must be a whole number`)
    .min(VLAN_MIN, `${label} must be ${VLAN_MIN}–${VLAN_MAX} (rule VLAN_OUT_OF_RANGE)`)
    .max(VLAN_MAX, `${label} must be ${VLAN_MIN}–${VLAN_MAX} (rule VLAN_OUT_OF_RANGE)`);
const mac = z
  .string()
  .max(17, 'A MAC address is 17 characters')
  .regex(/^([0-9A-Fa-f]{2}[-:]){5}[0-9A-Fa-f]{2}$/, 'A MAC address looks like 00-15-5D-01-02-03');

/** The fabric MAC pool (provider setting): every new vNIC's MAC is drawn from it (mac-pool.ts checks the range). */
export const setMacPoolInput = z.strictObject({ first: mac, last: mac });
export type SetMacPoolInput = z.infer<typeof setMacPoolInput>;

export const macPoolSchema = z.object({
  first: z.string(),
  last: z.string(),
  /** Addresses in the range. */
  size: z.number(),
  /** vNICs whose MAC lies in the range now. */
  inUse: z.number(),
});

export const createVmNetworkInput = z.strictObject({
  name: name('VM network name'),
  isolation: oneOf('Isolation', ['gre', 'ip-rewrite']).default('gre'),
});

export const createSubnetInput = z.strictObject({
  vmNetworkId: z.uuid('VM network id must be a UUID'),
  name: name('Subnet name'),
  prefix: unicastPrefix('Subnet prefix', 'a VM subnet'),
  /** Default: the subnet's first address. */
  gateway: ipv4('Gateway').optional(),
  /**
   * From a person, refused whatever its value (rule VSID_ALLOCATED_BY_FABRIC): Fabric allocates VSIDs, so a
   * tenant never learns which ones other tenants hold; a client sending one is told why, range first. Only
   * Fabric's own setup (the demo seed) chooses one.
   */
  vsid: z
    .number()
    .int('VSID must be a whole number')
    .min(VSID_MIN, `VSID must be ${VSID_MIN}–${VSID_MAX} (rule VSID_OUT_OF_RANGE)`)
    .max(VSID_MAX, `VSID must be ${VSID_MIN}–${VSID_MAX} (rule VSID_OUT_OF_RANGE)`)
    .optional(),
});

export const aclInput = z
  .strictObject({
    direction: z.enum(['inbound', 'outbound', 'both'], {
      error: 'ACL direction is inbound, outbound or both',
    }),
    action: z.enum(['allow', 'deny', 'meter'], { error: 'ACL action is allow, deny or meter' }),
    remote: z.union([z.strictObject({ prefix: prefix('ACL remote prefix') }), z.strictObject({ mac })], {
      error: 'ACL remote is a prefix such as 10.0.0.0/8 or a MAC such as 00-15-5D-01-02-03',
    }),
    localPort: z
      .number({ error: 'ACL local port must be a number' })
      .int('ACL local port must be a whole number')
      .min(1, 'Port must be 1–65535')
      .max(65_535, 'Port must be 1–65535')
      .optional(),
    meterClass: z
      .string()
      .max(32, 'Meter class is at most 32 characters')
      .regex(/^[a-z][a-z0-9-]*$/, 'Meter class is a slug: lower-case letters, digits and "-", starting with a letter')
      .optional(),
  })
  .refine((acl) => acl.meterClass === undefined || acl.action === 'meter', {
    message: 'A meter class belongs to a meter ACL only (allow and deny ACLs are not metered)',
    path: ['meterClass'],
  });

/** Said whatever is wrong with the number (not a number, a fraction, 0, 1e308): the rule, not zod's range. */
const MAX_MBPS = 'Maximum bandwidth is a whole number of Mbps from 1 to 400,000';
const WEIGHT = 'Minimum bandwidth weight is a whole number from 1 to 100';

const PVLAN_MODES = ['isolated', 'community', 'promiscuous'] as const;
/** Every PVLAN has a mode: `pvlan: {}` was read as "no PVLAN" and cleared it (hostile probe); null clears it. */
const pvlanInput = z.strictObject({
  mode: z.enum(PVLAN_MODES, {
    error: (issue) =>
      issue.input === undefined
        ? `A PVLAN needs a mode: ${PVLAN_MODES.join(', ')} (rule PVLAN_MODE_REQUIRED); pvlan: null clears the PVLAN`
        : `PVLAN mode must be one of ${PVLAN_MODES.join(', ')}`,
  }),
  primaryVlan: vlan('PVLAN primary VLAN').optional(),
  secondaryVlan: vlan('PVLAN secondary VLAN').optional(),
});
const trunkInput = z.strictObject({
  allowedVlans: z
    .array(vlan('Trunk allowed VLAN'))
    .min(1, 'A trunk allows at least one VLAN')
    .max(64, 'At most 64 trunk VLANs'),
  nativeVlan: vlan('Trunk native VLAN'),
});
const aclsInput = z.array(aclInput).max(MAX_ACLS_PER_PORT, `At most ${MAX_ACLS_PER_PORT} ACLs per port`);
const mirroringInput = oneOf('Mirroring', ['none', 'source', 'destination']);
const maximumBandwidthMbps = z.number({ error: MAX_MBPS }).int(MAX_MBPS).min(1, MAX_MBPS).max(400_000, MAX_MBPS);
const minimumBandwidthWeight = z.number({ error: WEIGHT }).int(WEIGHT).min(1, WEIGHT).max(100, WEIGHT);

/** A whole port policy (attachNic): a field left out takes its default. */
const GUARDS = {
  macSpoofing: flag('MAC spoofing'),
  dhcpGuard: flag('DHCP guard'),
  routerGuard: flag('Router guard'),
  arpGuard: flag('ARP guard'),
};
/** A policy that is no object (`policy: null`): said with its shape, not zod's "expected object". */
const policyShape = (what: string) => ({
  error: (issue: { code: string }) =>
    issue.code === 'invalid_type'
      ? `policy must be ${what} such as { dhcpGuard: true, acls: [] }; null clears one field of it, not the policy`
      : undefined,
});

export const portPolicyInput = z.strictObject(
  {
    macSpoofing: GUARDS.macSpoofing.optional(),
    dhcpGuard: GUARDS.dhcpGuard.optional(),
    routerGuard: GUARDS.routerGuard.optional(),
    arpGuard: GUARDS.arpGuard.optional(),
    pvlan: pvlanInput.optional(),
    acls: aclsInput.optional(),
    trunk: trunkInput.optional(),
    mirroring: mirroringInput.optional(),
    maximumBandwidthMbps: maximumBandwidthMbps.optional(),
    minimumBandwidthWeight: minimumBandwidthWeight.optional(),
  },
  policyShape('a port policy'),
);

/**
 * A change to a port policy (setPortPolicy): a field left out keeps its value, null puts it back to its
 * default (no PVLAN, no trunk, no bandwidth cap or weight, no ACLs, no mirroring, a guard's default). A
 * PVLAN, a trunk and the ACL list are each one setting, replaced whole. A console sending only ACLs
 * no longer wipes the PVLAN and bandwidth someone else set (hostile probe, issue 13).
 */
export const portPolicyPatch = z.strictObject(
  {
    macSpoofing: GUARDS.macSpoofing.nullish(),
    dhcpGuard: GUARDS.dhcpGuard.nullish(),
    routerGuard: GUARDS.routerGuard.nullish(),
    arpGuard: GUARDS.arpGuard.nullish(),
    pvlan: pvlanInput.nullish(),
    acls: aclsInput.nullish(),
    trunk: trunkInput.nullish(),
    mirroring: mirroringInput.nullish(),
    maximumBandwidthMbps: maximumBandwidthMbps.nullish(),
    minimumBandwidthWeight: minimumBandwidthWeight.nullish(),
  },
  policyShape('a port policy change (each field left out keeps its value)'),
);

/** A VM NIC leaves its subnet (detach): it keeps its MAC and port policy, and is on no VM network. */
export const detachNicInput = z.strictObject({
  vmId: z.uuid('VM id must be a UUID'),
  nicName: text('NIC name', { min: 1, max: 32 }),
});
export type DetachNicInput = z.infer<typeof detachNicInput>;

export const detachNicResultSchema = z.object({
  /** False when the NIC was on no subnet (nothing to do). */
  detached: z.boolean(),
  /** The address it gave back, and where it had been. */
  ca: z.string().nullable(),
  subnetId: z.string().nullable(),
});

export const attachNicInput = z.strictObject({
  vmId: z.uuid('VM id must be a UUID'),
  nicName: text('NIC name', { min: 1, max: 32 }),
  subnetId: z.uuid('Subnet id must be a UUID'),
  /** A static customer address; default: the lowest free one. */
  ca: ipv4('Customer address').optional(),
  policy: portPolicyInput.optional(),
});

export const setPortPolicyInput = z.strictObject({
  vmId: z.uuid('VM id must be a UUID'),
  nicName: text('NIC name', { min: 1, max: 32 }),
  policy: portPolicyPatch,
});

/** Edits of a VM network: its name always; its isolation mode only while no VM NIC is attached. */
export const updateVmNetworkInput = z
  .strictObject({
    id: z.uuid('VM network id must be a UUID'),
    name: name('VM network name').optional(),
    isolation: oneOf('Isolation', ['gre', 'ip-rewrite']).optional(),
  })
  .refine((i) => i.name !== undefined || i.isolation !== undefined, 'Give a new name or isolation mode');

/** Edits of a subnet: its name always; its prefix and gateway only while no VM NIC is attached. */
export const updateSubnetInput = z
  .strictObject({
    id: z.uuid('Subnet id must be a UUID'),
    name: name('Subnet name').optional(),
    prefix: unicastPrefix('Subnet prefix', 'a VM subnet').optional(),
    gateway: ipv4('Gateway').optional(),
  })
  .refine(
    (i) => i.name !== undefined || i.prefix !== undefined || i.gateway !== undefined,
    'Give a new name, prefix or gateway',
  );

export const vmPortsInput = z.strictObject({ vmId: z.uuid('VM id must be a UUID') });

export const createLogicalNetworkInput = z.strictObject({ name: name('Logical network name') });
export const addPaPoolInput = z.strictObject({
  logicalNetworkId: z.uuid('Logical network id must be a UUID'),
  clusterId: z.uuid('Cluster id must be a UUID'),
  prefix: unicastPrefix('PA pool prefix', 'a PA pool'),
  gateway: ipv4('PA gateway').optional(),
  vlanId: vlan('PA VLAN'),
});

export const traceInput = z.strictObject({
  fromVmId: z.uuid('VM id must be a UUID'),
  /** Destination customer address in the sender's VM network. */
  toCa: ipv4('Destination address'),
  protocol: oneOf('Protocol', ['tcp', 'udp', 'icmp']).default('tcp'),
  port: z
    .number({ error: 'Port must be a whole number 1–65535' })
    .int('Port must be a whole number 1–65535')
    .min(1, 'Port must be 1–65535')
    .max(65_535, 'Port must be 1–65535')
    .optional(),
  kind: oneOf('Packet kind', ['ip', 'arp', 'dhcp-server', 'router-advertisement']).default('ip'),
});

export const createExtensionInput = z.strictObject({
  name: name('Extension name'),
  url: z
    .url('URL must be an http(s) URL')
    .max(500, 'URL is at most 500 characters')
    .regex(/^https?:\/\//, 'URL must be http(s)'),
  timeoutMs: z.number().int().min(50, 'Timeout is 50–10,000 ms').max(10_000, 'Timeout is 50–10,000 ms').default(2_000),
  failurePolicy: oneOf('Failure policy', ['open', 'closed']).default('closed'),
});

export const idInput = z.strictObject({ id: z.uuid('id must be a UUID') });

export type CreateVmNetworkInput = z.infer<typeof createVmNetworkInput>;
export type CreateSubnetInput = z.infer<typeof createSubnetInput>;
export type UpdateVmNetworkInput = z.infer<typeof updateVmNetworkInput>;
export type UpdateSubnetInput = z.infer<typeof updateSubnetInput>;
export type AttachNicInput = z.infer<typeof attachNicInput>;
export type PortPolicyInput = z.infer<typeof portPolicyInput>;
export type PortPolicyPatch = z.infer<typeof portPolicyPatch>;
export type SetPortPolicyInput = z.infer<typeof setPortPolicyInput>;
export type AddPaPoolInput = z.infer<typeof addPaPoolInput>;
export type TraceInput = z.infer<typeof traceInput>;
export type CreateExtensionInput = z.infer<typeof createExtensionInput>;

/** The agent channel (GET/POST /agent/v1/hosts/{id}/network-policy). */
export const policyAckSchema = z.strictObject({
  version: z.number().int().min(0).max(2_147_483_647),
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'digest is a sha256 hex string'),
});

// ------------------------------------------------------------ outputs
export const subnetSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  vmNetworkId: z.string(),
  name: z.string(),
  vsid: z.number(),
  prefix: z.string(),
  gateway: z.string(),
});
export const vmNetworkSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  name: z.string(),
  isolation: z.enum(['gre', 'ip-rewrite']),
  createdAt: z.date(),
  subnets: z.array(subnetSchema),
});
export const topologySchema = z.array(
  vmNetworkSchema.extend({
    subnets: z.array(
      subnetSchema.extend({
        nics: z.array(
          z.object({
            vmId: z.string(),
            vmName: z.string(),
            nicName: z.string(),
            ca: z.string().nullable(),
            mac: z.string(),
            vmState: z.string(),
          }),
        ),
      }),
    ),
  }),
);
export const attachNicResultSchema = z.object({ ca: z.string(), mac: z.string(), gateway: z.string() });
export const portPolicySchema = z.object({
  macSpoofing: z.boolean(),
  dhcpGuard: z.boolean(),
  routerGuard: z.boolean(),
  arpGuard: z.boolean(),
  pvlan: z
    .object({
      mode: z.enum(['isolated', 'community', 'promiscuous']),
      primaryVlan: z.number(),
      secondaryVlan: z.number().optional(),
    })
    .optional(),
  acls: z.array(aclInput),
  trunk: z.object({ allowedVlans: z.array(z.number()), nativeVlan: z.number() }).optional(),
  mirroring: z.enum(['none', 'source', 'destination']),
  maximumBandwidthMbps: z.number().optional(),
  minimumBandwidthWeight: z.number().optional(),
});
export const logicalNetworkSchema = z.object({ id: z.string(), name: z.string() });
export const paPoolSchema = z.object({
  id: z.string(),
  logicalNetworkId: z.string(),
  logicalNetworkName: z.string(),
  clusterId: z.string(),
  prefix: z.string(),
  gateway: z.string(),
  vlanId: z.number(),
});
export const logicalNetworksSchema = z.array(
  logicalNetworkSchema.extend({ pools: z.array(paPoolSchema.extend({ addressesInUse: z.number() })) }),
);
export const hostPolicyStatusSchema = z.array(
  z.object({
    hostId: z.string(),
    hostName: z.string(),
    version: z.number(),
    appliedVersion: z.number(),
    lagging: z.boolean(),
    bytes: z.number(),
    changedAt: z.date(),
    appliedAt: z.date().nullable(),
  }),
);
const endpointSchema = z.object({
  hostId: z.string(),
  nicId: z.string(),
  vmName: z.string(),
  tenantId: z.string(),
  rdid: z.string(),
});
const verdictSchema = z.object({
  hostId: z.string(),
  stage: z.enum(['egress', 'wire', 'ingress']),
  ok: z.boolean(),
  rule: z.string(),
  detail: z.string().optional(),
});
const packetSchema = z.object({
  fromNic: z.string(),
  kind: z.enum(['ip', 'arp', 'dhcp-server', 'router-advertisement']),
  srcMac: z.string(),
  srcCa: z.string(),
  dstCa: z.string(),
  protocol: z.enum(['tcp', 'udp', 'icmp']),
  dstPort: z.number().optional(),
  vlan: z.number().optional(),
  bytes: z.number(),
});
export const isolationStatusSchema = z
  .object({
    ok: z.boolean(),
    hosts: z.number(),
    ports: z.number(),
    candidates: z.number(),
    durationMs: z.number(),
    at: z.date(),
    trigger: z.string(),
    violations: z.array(
      z.object({ from: endpointSchema, to: endpointSchema, packet: packetSchema, hops: z.array(verdictSchema) }),
    ),
  })
  .nullable();
export const traceResultSchema = z.object({
  delivered: z.boolean(),
  toNic: z.string().optional(),
  rdid: z.string().optional(),
  tenantId: z.string().optional(),
  hops: z.array(verdictSchema),
  metered: z.array(
    z.object({
      nicId: z.string(),
      direction: z.enum(['inbound', 'outbound']),
      meterClass: z.string(),
      bytes: z.number(),
    }),
  ),
  from: z.object({ vmName: z.string(), ca: z.string().nullable() }),
  laggingHosts: z.array(z.string()),
  /** Per host on the path: who gave its verdicts (its agent, or Fabric when the agent did not answer), at which version. */
  hosts: z.array(
    z.object({
      hostId: z.string(),
      hostName: z.string(),
      stage: z.enum(['egress', 'ingress']),
      answeredBy: z.enum(['agent', 'fabric']),
      status: z.enum(['current', 'lagging', 'no-answer']),
      appliedVersion: z.number().nullable(),
      compiledVersion: z.number(),
      ok: z.boolean(),
      verdicts: z.array(verdictSchema),
      computed: z.object({ ok: z.boolean(), rule: z.string() }).nullable(),
    }),
  ),
});
export const extensionSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  timeoutMs: z.number(),
  failurePolicy: z.enum(['open', 'closed']),
  enabled: z.boolean(),
});

/** A tenant's own trace: verdicts without the provider's host ids or other tenants' anything. */
export const tenantTraceResultSchema = z.object({
  delivered: z.boolean(),
  toVmName: z.string().optional(),
  hops: z.array(z.object({ stage: z.enum(['egress', 'wire', 'ingress']), ok: z.boolean(), rule: z.string() })),
  from: z.object({ vmName: z.string(), ca: z.string().nullable() }),
  /** True while a host on the path has not yet applied Fabric's latest policy. */
  pending: z.boolean(),
  /** True when a host's switch did not answer and Fabric computed its verdict from the compiled policy. */
  computed: z.boolean(),
});

/** A VM's NICs with their network, address and port policy (the VM page's Port policy card). */
export const vmPortsSchema = z.array(
  z.object({
    nicName: z.string(),
    mac: z.string(),
    network: z.string(),
    subnet: z
      .object({ id: z.string(), name: z.string(), vmNetworkName: z.string(), prefix: z.string(), gateway: z.string() })
      .nullable(),
    ca: z.string().nullable(),
    minimumBandwidthMbps: z.number().nullable(),
    policy: portPolicySchema,
    /** The QoS the host's switch enforces on this port (admitted minimum, weight, the lower maximum); null: none. */
    qos: z
      .object({ minimumMbps: z.number().optional(), weight: z.number().optional(), maximumMbps: z.number().optional() })
      .nullable(),
    /** The latest sample's bandwidth as the switch gave it (both directions, Mbps); null before the first. */
    bandwidth: z
      .object({
        at: z.date(),
        offeredMbps: z.number(),
        achievedMbps: z.number(),
        limitedBy: z.enum(['demand', 'maximum', 'share']),
      })
      .nullable(),
  }),
);
