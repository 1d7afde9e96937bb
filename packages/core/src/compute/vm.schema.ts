import { z } from 'zod';
import { HYPERV_LIMITS } from '../shared/limits';

// Limits from the whitepaper ("Scale up"): 64 vCPUs and 1 TB of memory per VM;
// VHDX up to 64 TB with 512 or 4,096-byte logical sectors.
export const VHDX_MAX_BYTES = 64 * 1024 ** 4;
const GiB = 1024 ** 3;

export const VM_STATES = [
  'creating',
  'off',
  'starting',
  'running',
  'paused',
  'saved',
  'stopping',
  'failed',
  'deleting',
] as const;
export type VmState = (typeof VM_STATES)[number];
export const HA_PRIORITIES = ['high', 'medium', 'low', 'off'] as const;

export const vmNameSchema = z
  .string()
  .trim()
  .min(1, 'VM name is required')
  .max(64, 'VM name must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'VM name may hold letters, digits, dots, hyphens and underscores');

const memoryMiB = (what: string) =>
  z
    .number()
    .int(`${what} must be a whole number of MiB`)
    .min(32, `${what} must be at least 32 MiB`)
    .max(HYPERV_LIMITS.memoryMiBPerVm, `${what} must be at most 1 TB per VM (Hyper-V limit)`);

export const memoryInput = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('static'), sizeMiB: memoryMiB('Memory') }),
  z
    .object({
      mode: z.literal('dynamic'),
      startupMiB: memoryMiB('Startup memory'),
      minimumMiB: memoryMiB('Minimum memory'),
      maximumMiB: memoryMiB('Maximum memory'),
      bufferPercent: z
        .number()
        .int()
        .min(5, 'Memory buffer is 5–2000 %')
        .max(2000, 'Memory buffer is 5–2000 %')
        .default(20),
      weight: z.number().int().min(0, 'Memory weight is 0–10000').max(10000, 'Memory weight is 0–10000').default(5000),
    })
    .refine((m) => m.minimumMiB <= m.startupMiB, {
      message: 'Minimum memory must not exceed startup memory',
      path: ['minimumMiB'],
    })
    .refine((m) => m.startupMiB <= m.maximumMiB, {
      message: 'Startup memory must not exceed maximum memory',
      path: ['maximumMiB'],
    }),
]);
export type MemoryInput = z.infer<typeof memoryInput>;

export const diskInput = z.object({
  name: z.string().trim().min(1).max(64).default('disk0'),
  sizeGiB: z
    .number()
    .positive('Disk size must be positive')
    .max(VHDX_MAX_BYTES / GiB, 'A VHDX is at most 64 TB (Hyper-V limit)'),
  logicalSectorBytes: z
    .union([z.literal(512), z.literal(4096)], { error: 'Logical sector size is 512 or 4,096 bytes' })
    .default(4096),
  kind: z.enum(['fixed', 'dynamic', 'differencing']).default('dynamic'),
  /** For differencing disks: the parent disk's name on the same VM. */
  parent: z.string().max(64).optional(),
  pool: z.string().max(128).optional(),
});

export const nicInput = z
  .object({
    name: z.string().trim().min(1).max(64).default('nic0'),
    network: z.string().trim().min(1).max(64).default('default'),
    minimumBandwidthMbps: z.number().int().min(1).max(1_000_000).optional(),
    minimumBandwidthWeight: z
      .number()
      .int()
      .min(1, 'Bandwidth weight is 1–100')
      .max(100, 'Bandwidth weight is 1–100')
      .optional(),
    maximumBandwidthMbps: z.number().int().min(1).max(1_000_000).optional(),
  })
  .refine((n) => !(n.minimumBandwidthMbps && n.minimumBandwidthWeight), {
    message: 'Minimum bandwidth is either absolute (Mbps) or a weight, not both',
    path: ['minimumBandwidthWeight'],
  })
  .refine(
    (n) => !n.minimumBandwidthMbps || !n.maximumBandwidthMbps || n.minimumBandwidthMbps <= n.maximumBandwidthMbps,
    {
      message: 'Minimum bandwidth must not exceed maximum bandwidth',
      path: ['maximumBandwidthMbps'],
    },
  );

export const groupInput = z.object({
  name: z.string().trim().min(1).max(64),
  kind: z.enum(['affinity', 'anti-affinity']),
  hard: z.boolean().default(false),
});

export const createVmInput = z
  .object({
    name: vmNameSchema,
    vcpus: z
      .number()
      .int('vCPUs must be a whole number')
      .min(1, 'A VM needs at least 1 vCPU')
      .max(HYPERV_LIMITS.vcpusPerVm, 'A VM has at most 64 vCPUs (Hyper-V limit)'),
    memory: memoryInput,
    disks: z.array(diskInput).min(1, 'A VM needs at least one disk').max(64, 'At most 64 disks per VM'),
    nics: z
      .array(nicInput)
      .max(12, 'At most 12 network adapters per VM')
      .default([{ name: 'nic0', network: 'default' }]),
    haPriority: z.enum(HA_PRIORITIES).default('medium'),
    tags: z.array(z.string().trim().min(1).max(32)).max(20).default([]),
    groups: z.array(groupInput).max(8).default([]),
    startAfterCreate: z.boolean().default(true),
  })
  .refine((v) => new Set(v.disks.map((d) => d.name)).size === v.disks.length, {
    message: 'Disk names must be unique',
    path: ['disks'],
  })
  .refine((v) => new Set(v.nics.map((n) => n.name)).size === v.nics.length, {
    message: 'Network adapter names must be unique',
    path: ['nics'],
  })
  .refine(
    (v) =>
      v.disks.every(
        (d) => d.kind !== 'differencing' || (d.parent && v.disks.some((p) => p.name === d.parent && p !== d)),
      ),
    { message: 'A differencing disk needs a parent disk of the same VM', path: ['disks'] },
  );
export type CreateVmInput = z.infer<typeof createVmInput>;

/** A tier of identical VMs, named `<name>-01` … `<name>-NN`, admitted and placed all together or not at all. */
export const createManyVmsInput = z.object({
  vm: createVmInput,
  count: z.number().int().min(1, 'Create at least 1 VM').max(100, 'At most 100 VMs at once'),
});
export type CreateManyVmsInput = z.infer<typeof createManyVmsInput>;

export const createManyResultSchema = z.object({
  vms: z.array(z.object({ id: z.string(), name: z.string(), hostName: z.string().nullable() })),
  clusterName: z.string(),
});

export const VM_ACTIONS = ['start', 'stop', 'turn-off', 'restart', 'pause', 'resume', 'save', 'delete'] as const;
export type VmAction = (typeof VM_ACTIONS)[number];

export const vmActionInput = z.object({ id: z.string().uuid(), action: z.enum(VM_ACTIONS) });
export const bulkVmActionInput = z.object({
  /** A name or a wildcard pattern, like Start-VM -Name web*: `*` any run, `?` one character. */
  pattern: z.string().trim().min(1).max(64),
  action: z.enum(VM_ACTIONS),
});

export const listVmsInput = z.object({
  search: z.string().trim().max(64).optional(),
  state: z.enum(VM_STATES).optional(),
  tenantId: z.string().uuid().optional(),
  hostId: z.string().uuid().optional(),
  sort: z.enum(['name', 'state', 'vcpus', 'memoryMiB', 'createdAt']).default('name'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(10).max(100).default(25),
});
export type ListVmsInput = z.infer<typeof listVmsInput>;

export const quotaSchema = z.object({
  maxVms: z.number().int().min(0).max(100_000),
  maxVcpus: z.number().int().min(0).max(1_000_000),
  maxMemoryMiB: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  maxStorageBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  maxRunningVms: z.number().int().min(0).max(100_000),
  maxRunningVcpus: z.number().int().min(0).max(1_000_000),
  maxRunningMemoryMiB: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
});
export type Quota = z.infer<typeof quotaSchema>;

export const usageSchema = z.object({
  vms: z.number(),
  vcpus: z.number(),
  memoryMiB: z.number(),
  storageBytes: z.number(),
  runningVms: z.number(),
  runningVcpus: z.number(),
  runningMemoryMiB: z.number(),
});
export type Usage = z.infer<typeof usageSchema>;

// ------------------------------------------------------------------ outputs

export const vmRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(VM_STATES),
  stateReason: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  /** Null for tenants: which host runs a VM is the provider's business. */
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  vcpus: z.number(),
  memoryMiB: z.number(),
  dynamicMemory: z.boolean(),
  storageBytes: z.number(),
  haPriority: z.enum(HA_PRIORITIES),
  tags: z.array(z.string()),
  createdAt: z.date(),
});
export type VmRow = z.infer<typeof vmRowSchema>;
export const vmListSchema = z.object({ rows: z.array(vmRowSchema), total: z.number() });

export const taskViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.number(),
  message: z.string(),
  errorCode: z.string().nullable(),
  requestedBy: z.string(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
});

export const vmDetailSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(VM_STATES),
  stateReason: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  clusterName: z.string().nullable(),
  vcpus: z.number(),
  memory: z.object({
    dynamic: z.boolean(),
    startupMiB: z.number(),
    minimumMiB: z.number(),
    maximumMiB: z.number(),
    bufferPercent: z.number(),
    weight: z.number(),
  }),
  storageBytes: z.number(),
  haPriority: z.enum(HA_PRIORITIES),
  tags: z.array(z.string()),
  groups: z.unknown(),
  createdAt: z.date(),
  disks: z.array(
    z.object({
      name: z.string(),
      pool: z.string().nullable(),
      sizeBytes: z.number(),
      logicalSectorBytes: z.number(),
      kind: z.string(),
    }),
  ),
  nics: z.array(
    z.object({
      name: z.string(),
      macAddress: z.string(),
      network: z.string(),
      minimumBandwidthMbps: z.number().nullable(),
      minimumBandwidthWeight: z.number().nullable(),
      maximumBandwidthMbps: z.number().nullable(),
    }),
  ),
  tasks: z.array(taskViewSchema),
  decision: z.object({ id: z.string(), summary: z.string() }).nullable(),
});
export type VmDetail = z.infer<typeof vmDetailSchema>;

export const quotaAndUsageSchema = z.object({ quota: quotaSchema, usage: usageSchema });

export const createVmResultSchema = z.object({
  vm: z.object({ id: z.string(), name: z.string(), state: z.enum(VM_STATES) }),
  decisionId: z.string(),
  taskId: z.string(),
});

export const bulkResultSchema = z.array(
  z.object({ vmId: z.string(), name: z.string(), ok: z.boolean(), message: z.string(), taskId: z.string().nullable() }),
);

export const setQuotaInput = z.object({ tenantId: z.string().uuid(), quota: quotaSchema });
export const tenantIdInput = z.object({ tenantId: z.string().uuid() });

export const decisionSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  vmId: z.string().nullable(),
  vmName: z.string(),
  clusterId: z.string(),
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  policy: z.enum(['balance', 'pack']),
  seed: z.number(),
  summary: z.string(),
  request: z.unknown(),
  trace: z.unknown(),
  createdAt: z.date(),
});

export const vmChangeEventSchema = z.object({
  vmId: z.string(),
  tenantId: z.string(),
  name: z.string(),
  state: z.union([z.enum(VM_STATES), z.literal('deleted')]),
  taskId: z.string().nullable(),
  progress: z.number().nullable(),
  message: z.string(),
});
