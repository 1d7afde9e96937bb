import { z } from 'zod';
import { HYPERV_LIMITS } from '../shared/limits';
import { oneOf, SEARCH_MAX_LENGTH, searchText, text } from '../shared/text.schema';
import { HOST_STATES } from './host-state';
import { TOKEN_TTL_MINUTES } from './registration-token';

// Inputs and outputs of the fabric procedures; routers use these as-is.

const id = z.string().uuid('must be a valid id');

/** Letters and digits of any script (with their combining marks), spaces, dots, hyphens and underscores. */
export const clusterNameSchema = text('Cluster name', { min: 1, max: 63 }).regex(
  /^[\p{L}\p{N}][\p{L}\p{M}\p{N} ._-]*$/u,
  'Cluster name may hold letters, digits, spaces, dots, hyphens and underscores',
);

/**
 * A whole-number field in people's words: an empty field, a fraction or a
 * number too large to be one (1e400 arrives as Infinity) says what is
 * expected, instead of zod's "Invalid input: expected int, received number".
 */
function wholeNumber(what: string, max: number) {
  const expected = `${what} must be a whole number from 1 to ${max.toLocaleString('en-US')}`;
  return z
    .number({
      error: (issue: { input: unknown }) =>
        issue.input === undefined || (typeof issue.input === 'number' && Number.isNaN(issue.input))
          ? `${what} is required`
          : expected,
    })
    .int(expected);
}

export const createClusterInput = z.object({
  name: clusterNameSchema,
  description: text('Description', { max: 500, multiline: true }).default(''),
  maxHosts: wholeNumber('Maximum hosts', HYPERV_LIMITS.hostsPerCluster)
    .min(1, 'A cluster needs room for at least 1 host')
    .max(HYPERV_LIMITS.hostsPerCluster, `A cluster has at most ${HYPERV_LIMITS.hostsPerCluster} hosts (Hyper-V limit)`)
    .default(HYPERV_LIMITS.hostsPerCluster),
  maxVms: wholeNumber('Maximum VMs', HYPERV_LIMITS.vmsPerCluster)
    .min(1, 'A cluster needs room for at least 1 VM')
    .max(
      HYPERV_LIMITS.vmsPerCluster,
      `A cluster has at most ${HYPERV_LIMITS.vmsPerCluster.toLocaleString('en-US')} VMs (Hyper-V limit)`,
    )
    .default(HYPERV_LIMITS.vmsPerCluster),
});
export type CreateClusterInput = z.infer<typeof createClusterInput>;

export const byIdInput = z.object({ id });

export const clusterSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  maxHosts: z.number(),
  maxVms: z.number(),
  placementPolicy: oneOf('Placement policy', ['balance', 'pack']).optional(),
  cpuOvercommitRatio: z.number().optional(),
  hostCount: z.number(),
  createdAt: z.date(),
});
export type ClusterView = z.infer<typeof clusterSchema>;

export const createTokenInput = z.object({
  clusterId: id,
  label: text('Label', { max: 100 }).default(''),
  ttlMinutes: z
    .number()
    .int()
    .min(TOKEN_TTL_MINUTES.min, `A token lives at least ${TOKEN_TTL_MINUTES.min} minutes`)
    .max(TOKEN_TTL_MINUTES.max, 'A token lives at most 7 days')
    .default(TOKEN_TTL_MINUTES.default),
});
export type CreateTokenInput = z.infer<typeof createTokenInput>;

export const createdTokenSchema = z.object({
  id: z.string(),
  token: z.string(),
  expiresAt: z.date(),
  agentCommand: z.string(),
});

export const tokenSchema = z.object({
  id: z.string(),
  clusterId: z.string(),
  prefix: z.string(),
  label: z.string(),
  expiresAt: z.date(),
  usedAt: z.date().nullable(),
  usedByHostName: z.string().nullable(),
  revokedAt: z.date().nullable(),
  createdAt: z.date(),
  status: z.enum(['active', 'used', 'expired', 'revoked']),
});
export type TokenView = z.infer<typeof tokenSchema>;

export const listTokensInput = z.object({ clusterId: id });

export const HOST_SORTS = ['name', 'state', 'cluster', 'lastHeartbeatAt', 'logicalProcessors', 'memoryMiB'] as const;

export const listHostsInput = z.object({
  search: searchText('Search', SEARCH_MAX_LENGTH),
  state: oneOf('Host state', HOST_STATES).optional(),
  clusterId: id.optional(),
  sort: oneOf('Sort', HOST_SORTS).default('name'),
  dir: oneOf('Sort direction', ['asc', 'desc']).default('asc'),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(10).max(100).default(25),
});
export type ListHostsInput = z.infer<typeof listHostsInput>;

export const hostRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  clusterId: z.string(),
  clusterName: z.string(),
  state: z.enum(HOST_STATES),
  lastHeartbeatAt: z.date().nullable(),
  logicalProcessors: z.number(),
  memoryMiB: z.number(),
  numaNodes: z.number(),
  agentVersion: z.string(),
  storageCapacityBytes: z.number(),
  storageUsedBytes: z.number(),
});
export type HostRow = z.infer<typeof hostRowSchema>;

export const hostListSchema = z.object({ rows: z.array(hostRowSchema), total: z.number() });

export const auditRowSchema = z.object({
  id: z.string(),
  at: z.date(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  actorLabel: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  targetLabel: z.string().nullable(),
  tenantId: z.string().nullable(),
  result: z.enum(['success', 'denied', 'failure']),
  message: z.string(),
});
export type AuditRow = z.infer<typeof auditRowSchema>;

export const hostDetailSchema = hostRowSchema.extend({
  cpuModel: z.string(),
  cpuMhz: z.number(),
  sockets: z.number(),
  coresPerSocket: z.number(),
  osName: z.string(),
  driver: z.string(),
  registeredAt: z.date(),
  stateChangedAt: z.date(),
  maintenanceReason: z.string().nullable(),
  /** The tenant this host is dedicated to (only its VMs are placed here), or null. */
  dedicatedTenantId: z.string().nullable().optional(),
  nics: z.array(z.object({ name: z.string(), macAddress: z.string(), linkSpeedMbps: z.number(), linkUp: z.boolean() })),
  storagePools: z.array(
    z.object({ name: z.string(), kind: z.string(), capacityBytes: z.number(), usedBytes: z.number() }),
  ),
  events: z.array(auditRowSchema),
});
export type HostDetail = z.infer<typeof hostDetailSchema>;

export const setMaintenanceInput = z.object({
  id,
  enabled: z.boolean(),
  reason: text('Reason', { max: 200 }).optional(),
});

export const overviewSchema = z.object({
  clusters: z.number(),
  hostsByState: z.object({ connected: z.number(), suspect: z.number(), failed: z.number(), maintenance: z.number() }),
  totals: z.object({
    logicalProcessors: z.number(),
    memoryMiB: z.number(),
    storageCapacityBytes: z.number(),
    storageUsedBytes: z.number(),
  }),
  clustersSummary: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      hostCount: z.number(),
      maxHosts: z.number(),
      logicalProcessors: z.number(),
      memoryMiB: z.number(),
    }),
  ),
});
export type Overview = z.infer<typeof overviewSchema>;

export const hostChangeEventSchema = z.object({
  hostId: z.string(),
  name: z.string(),
  state: z.enum(HOST_STATES),
  lastHeartbeatAt: z.date().nullable(),
  kind: z.enum(['heartbeat', 'state', 'inventory', 'registered', 'removed']),
});
export type HostChangeEvent = z.infer<typeof hostChangeEventSchema>;

export const setPlacementPolicyInput = z.object({
  id,
  policy: oneOf('Placement policy', ['balance', 'pack']),
  cpuOvercommitRatio: z
    .number()
    .min(1, 'vCPU overcommit is at least 1.0 (no overcommit)')
    .max(16, 'vCPU overcommit is at most 16.0'),
});

export const setDedicationInput = z.object({
  id,
  /** The tenant the host is dedicated to, or null to share it again. */
  tenantId: z.string().uuid().nullable(),
});
