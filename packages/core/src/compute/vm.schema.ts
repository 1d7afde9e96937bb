import { z } from 'zod';
import { VM_MOVE_CAUSES } from '../placement/placement-now';
import { HYPERV_LIMITS } from '../shared/limits';
import { oneOf, searchText, text } from '../shared/text.schema';

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

/**
 * Bounds of a VM's configuration besides HYPERV_LIMITS: the schemas below
 * check them and the console shows them as hints, so both read one source.
 */
export const VM_INPUT_LIMITS = {
  nameLength: 64,
  /** Hyper-V's smallest startup / minimum memory. */
  memoryMiBMin: 32,
  bufferPercent: { min: 5, max: 2000 },
  memoryWeight: { min: 0, max: 10_000 },
  disksPerVm: 64,
  nicsPerVm: 12,
  bandwidthMbps: { min: 1, max: 1_000_000 },
  bandwidthWeight: { min: 1, max: 100 },
  tagsPerVm: 20,
  tagLength: 32,
  /** VMs in one createMany tier. */
  vmsPerTier: 100,
} as const;
const L = VM_INPUT_LIMITS;

/** A number field's message when it is missing or not a number (an empty form field arrives as NaN). */
const requiredNumber = (what: string) => ({
  error: (issue: { input: unknown }) =>
    issue.input === undefined || Number.isNaN(issue.input) ? `${what} is required` : `${what} must be a number`,
});

/**
 * Letters and digits of any script (with their combining marks: Devanagari's
 * vowel signs, Arabic's harakat), dots, hyphens and underscores, starting with
 * a letter or digit. Hyper-V takes any Unicode display name; what stays out
 * is deliberate: spaces, `*` and `?` (the name is matched by `Start-VM -Name
 * web*` patterns), and the characters Windows refuses in the file names
 * tools derive from a VM's name (\ / : * ? " < > |).
 */
export const vmNameSchema = text('VM name', { min: 1, max: L.nameLength }).regex(
  /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u,
  'VM name may hold letters, digits, dots, hyphens and underscores, and starts with a letter or digit',
);

const memoryMiB = (what: string) =>
  z
    .number(requiredNumber(what))
    .int(`${what} must be a whole number of MiB`)
    .min(L.memoryMiBMin, `${what} must be at least ${L.memoryMiBMin} MiB`)
    .max(HYPERV_LIMITS.memoryMiBPerVm, `${what} must be at most 1 TiB (1,024 GiB) per VM (Hyper-V limit)`);

const bufferMessage = `Memory buffer is ${L.bufferPercent.min}–${L.bufferPercent.max} %`;
const weightMessage = `Memory weight is ${L.memoryWeight.min}–${L.memoryWeight.max}`;

export const memoryInput = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('static'), sizeMiB: memoryMiB('Memory') }),
    z
      .object({
        mode: z.literal('dynamic'),
        startupMiB: memoryMiB('Startup memory'),
        minimumMiB: memoryMiB('Minimum memory'),
        maximumMiB: memoryMiB('Maximum memory'),
        bufferPercent: z
          .number(requiredNumber('Memory buffer'))
          .int(bufferMessage)
          .min(L.bufferPercent.min, bufferMessage)
          .max(L.bufferPercent.max, bufferMessage)
          .default(20),
        weight: z
          .number(requiredNumber('Memory weight'))
          .int(weightMessage)
          .min(L.memoryWeight.min, weightMessage)
          .max(L.memoryWeight.max, weightMessage)
          .default(5000),
      })
      // Minimum ≤ startup ≤ maximum: a broken pair is flagged at both of its fields, so the form shows
      // both (a minimum above the maximum used to mark the minimum alone).
      .superRefine((m, ctx) => {
        const pairs = [
          ['minimumMiB', 'startupMiB', m.minimumMiB <= m.startupMiB, 'Minimum memory must not exceed startup memory'],
          ['startupMiB', 'maximumMiB', m.startupMiB <= m.maximumMiB, 'Startup memory must not exceed maximum memory'],
          ['minimumMiB', 'maximumMiB', m.minimumMiB <= m.maximumMiB, 'Minimum memory must not exceed maximum memory'],
        ] as const;
        for (const [low, high, ok, message] of pairs) {
          if (ok) continue;
          // The field the rule names second first: a form shows each field's first message.
          ctx.addIssue({ code: 'custom', message, path: [high] });
          ctx.addIssue({ code: 'custom', message, path: [low] });
        }
      }),
  ],
  {
    error:
      'Memory is { mode: "static", sizeMiB } or { mode: "dynamic", startupMiB, minimumMiB, maximumMiB, bufferPercent?, weight? }',
  },
);
export type MemoryInput = z.infer<typeof memoryInput>;

export const diskInput = z.object({
  name: text('Disk name', { min: 1, max: 64, name: true }).default('disk0'),
  sizeGiB: z
    .number(requiredNumber('Disk size'))
    .positive('Disk size must be positive')
    .max(VHDX_MAX_BYTES / GiB, 'A VHDX is at most 64 TiB (65,536 GiB) (Hyper-V limit)'),
  logicalSectorBytes: z
    .union([z.literal(512), z.literal(4096)], { error: 'Logical sector size is 512 or 4,096 bytes' })
    .default(4096),
  kind: oneOf('Disk kind', ['fixed', 'dynamic', 'differencing']).default('dynamic'),
  /** For differencing disks: the parent disk's name on the same VM. */
  parent: text('Parent disk', { max: 64 }).optional(),
  pool: text('Storage pool', { max: 128 }).optional(),
});

const mbpsMessage = `Bandwidth is a whole number of ${L.bandwidthMbps.min}–${L.bandwidthMbps.max.toLocaleString('en-US')} Mbps`;
const bandwidthMbps = z
  .number(requiredNumber('Bandwidth'))
  .int(mbpsMessage)
  .min(L.bandwidthMbps.min, mbpsMessage)
  .max(L.bandwidthMbps.max, mbpsMessage);
const weightOfBandwidthMessage = `Bandwidth weight is ${L.bandwidthWeight.min}–${L.bandwidthWeight.max}`;

export const nicInput = z
  .object({
    name: text('Adapter name', { min: 1, max: 64, name: true }).default('nic0'),
    network: text('Network name', { min: 1, max: 64, name: true }).default('default'),
    minimumBandwidthMbps: bandwidthMbps.optional(),
    minimumBandwidthWeight: z
      .number(requiredNumber('Bandwidth weight'))
      .int(weightOfBandwidthMessage)
      .min(L.bandwidthWeight.min, weightOfBandwidthMessage)
      .max(L.bandwidthWeight.max, weightOfBandwidthMessage)
      .optional(),
    maximumBandwidthMbps: bandwidthMbps.optional(),
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
  name: text('Group name', { min: 1, max: 64, name: true }),
  kind: oneOf('Group kind', ['affinity', 'anti-affinity']),
  hard: z.boolean().default(false),
});

/** Reports each repeated name at the item that repeats it, so a form can show it beside that field. */
function uniqueNames(message: string) {
  return (items: readonly { name: string }[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', message, path: [i, 'name'] });
      seen.add(item.name);
    });
  };
}

// The cross-disk rules sit on the list rather than on the VM so they are
// checked even while another field (a blank vCPU count) is still invalid.
const disksInput = z
  .array(diskInput)
  .min(1, 'A VM needs at least one disk')
  .max(L.disksPerVm, `At most ${L.disksPerVm} disks per VM`)
  .superRefine(uniqueNames('Disk names must be unique'))
  .superRefine((disks, ctx) => {
    disks.forEach((d, i) => {
      if (d.kind !== 'differencing') return;
      if (d.parent && disks.some((p) => p.name === d.parent && p !== d)) return;
      ctx.addIssue({
        code: 'custom',
        message: 'A differencing disk needs a parent disk of the same VM',
        path: [i, 'parent'],
      });
    });
  });

export const createVmInput = z.object({
  name: vmNameSchema,
  vcpus: z
    .number(requiredNumber('vCPUs'))
    .int('vCPUs must be a whole number')
    .min(1, 'A VM needs at least 1 vCPU')
    .max(HYPERV_LIMITS.vcpusPerVm, `A VM has at most ${HYPERV_LIMITS.vcpusPerVm} vCPUs (Hyper-V limit)`),
  memory: memoryInput,
  disks: disksInput,
  nics: z
    .array(nicInput)
    .max(L.nicsPerVm, `At most ${L.nicsPerVm} network adapters per VM`)
    .superRefine(uniqueNames('Network adapter names must be unique'))
    .default([{ name: 'nic0', network: 'default' }]),
  haPriority: oneOf('HA priority', HA_PRIORITIES).default('medium'),
  tags: z
    .array(text('A tag', { min: 1, max: L.tagLength, name: true }))
    .max(L.tagsPerVm, `At most ${L.tagsPerVm} tags`)
    .default([]),
  groups: z.array(groupInput).max(8).default([]),
  startAfterCreate: z.boolean().default(true),
});
export type CreateVmInput = z.infer<typeof createVmInput>;

/** The name of VM `index` (1-based) of a tier of `count`: `web-01` … `web-100` (at least two digits). */
export function tierVmName(name: string, index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `${name}-${String(index).padStart(width, '0')}`;
}

/** A tier of identical VMs, named `<name>-01` … `<name>-NN`, admitted and placed all together or not at all. */
export const createManyVmsInput = z
  .object({
    vm: createVmInput,
    count: z
      .number(requiredNumber('The number of VMs'))
      .int('Enter a whole number of VMs')
      .min(1, 'Create at least 1 VM')
      .max(L.vmsPerTier, `At most ${L.vmsPerTier} VMs at once`),
  })
  .refine((t) => tierVmName(t.vm.name, t.count, t.count).length <= L.nameLength, {
    message: `With the -01 … suffix the VM names pass ${L.nameLength} characters`,
    path: ['vm', 'name'],
  });
export type CreateManyVmsInput = z.infer<typeof createManyVmsInput>;

export const createManyResultSchema = z.object({
  vms: z.array(z.object({ id: z.string(), name: z.string(), hostName: z.string().nullable() })),
  clusterName: z.string(),
});

export const VM_ACTIONS = ['start', 'stop', 'turn-off', 'restart', 'pause', 'resume', 'save', 'delete'] as const;
export type VmAction = (typeof VM_ACTIONS)[number];

export const vmActionInput = z.object({ id: z.string().uuid(), action: oneOf('Action', VM_ACTIONS) });
export const bulkVmActionInput = z.object({
  /** A name or a wildcard pattern, like Start-VM -Name web*: `*` any run, `?` one character. */
  pattern: text('Pattern', { min: 1, max: 64 }),
  action: oneOf('Action', VM_ACTIONS),
});

/** A VM search is part of a name: no longer than a name (the console's search box stops there too). */
export const VM_SEARCH_MAX_LENGTH = 64;

export const listVmsInput = z.object({
  /** Part of the name, matched literally (% and _ are not wildcards). */
  search: searchText('Search', VM_SEARCH_MAX_LENGTH),
  state: oneOf('VM state', VM_STATES).optional(),
  tenantId: z.string().uuid().optional(),
  hostId: z.string().uuid().optional(),
  sort: oneOf('Sort', ['name', 'state', 'vcpus', 'memoryMiB', 'createdAt']).default('name'),
  dir: oneOf('Sort direction', ['asc', 'desc']).default('asc'),
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

/**
 * Where HA's restart of a VM stands after its host failed (ha_restarts): host-failed until that host is
 * fenced, waiting-capacity while no host has room, restarting while it starts on its new host. Meanwhile
 * the VM's state is still the one it had on the failed host ("running"), which lists would show as if
 * nothing happened: they show this instead. Absent when the VM is not being brought back.
 */
export const VM_HA_RECOVERY = ['host-failed', 'waiting-capacity', 'restarting'] as const;
export type VmHaRecovery = (typeof VM_HA_RECOVERY)[number];
const haRecoveryField = z.enum(VM_HA_RECOVERY).optional();

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
  haRecovery: haRecoveryField,
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
  haRecovery: haRecoveryField,
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
  /** The latest placement decision (provider only), read against where the VM runs now. */
  decision: z
    .object({
      id: z.string(),
      summary: z.string(),
      /** The host the decision chose. */
      hostName: z.string().nullable(),
      decidedAt: z.date(),
      /** Set when a migration, rebalancing or HA restart moved the VM after the decision (placement-now.ts). */
      movedSince: z.object({ cause: z.enum(VM_MOVE_CAUSES), at: z.date().nullable(), text: z.string() }).nullable(),
    })
    .nullable(),
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
  state: z.union([z.enum(VM_STATES), z.literal('deleted')], {
    error: `A VM's state is one of ${VM_STATES.join(', ')} or deleted`,
  }),
  taskId: z.string().nullable(),
  progress: z.number().nullable(),
  message: z.string(),
});
