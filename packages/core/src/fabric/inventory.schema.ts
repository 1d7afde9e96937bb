import { z } from 'zod';
import { HYPERV_LIMITS } from '../shared/limits';
import { oneOf, text } from '../shared/text.schema';

// Every string an agent reports goes through text(): a NUL byte or another control character is the
// agent's 400, not a Postgres error (a 500 the agent would retry for ever).
const name = (label: string) => text(label, { min: 1, max: 128 });

export const hostnameSchema = text('host name', { min: 1, max: 253 }).regex(
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
  'host name must be a DNS name (letters, digits, hyphens and dots)',
);

export const nicInventorySchema = z.object({
  name: name('NIC name'),
  macAddress: z
    .string()
    .regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, 'MAC address must look like 00:15:5D:01:02:03'),
  linkSpeedMbps: z.number().int().min(0).max(1_000_000, 'link speed above 1 Tbps'),
  linkUp: z.boolean(),
});

export const storagePoolInventorySchema = z
  .object({
    name: name('storage pool name'),
    kind: oneOf('storage pool kind', ['local', 'csv', 'smb', 'san']),
    capacityBytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 53 - 1),
    usedBytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 53 - 1),
  })
  .refine((p) => p.usedBytes <= p.capacityBytes, { message: 'used bytes exceed capacity', path: ['usedBytes'] });

/** What an agent reports about its host. Limits are the whitepaper's per-host maxima. */
export const hostInventorySchema = z
  .object({
    hostname: hostnameSchema,
    osName: text('OS name', { max: 200 }).default(''),
    cpu: z.object({
      model: name('CPU model'),
      mhz: z.number().int().min(1).max(10_000),
      sockets: z.number().int().min(1).max(64),
      coresPerSocket: z.number().int().min(1).max(320),
      logicalProcessors: z
        .number()
        .int()
        .min(1)
        .max(
          HYPERV_LIMITS.logicalProcessorsPerHost,
          `a host has at most ${HYPERV_LIMITS.logicalProcessorsPerHost} logical processors (Hyper-V limit)`,
        ),
    }),
    memoryMiB: z
      .number()
      .int()
      .min(1)
      .max(HYPERV_LIMITS.memoryMiBPerHost, 'a host has at most 4 TB of memory (Hyper-V limit)'),
    numaNodes: z.number().int().min(1).max(64),
    nics: z.array(nicInventorySchema).max(64, 'at most 64 NICs'),
    storagePools: z.array(storagePoolInventorySchema).max(256, 'at most 256 storage pools'),
    /**
     * The agent's peer listener for agent-to-agent block transfer (replication, storage migration),
     * e.g. http://127.0.0.1:41234; absent when the agent has none.
     */
    peerUrl: z
      .string()
      .max(200, 'peerUrl has at most 200 characters')
      .regex(/^https?:\/\/[0-9A-Za-z.[\]:-]{1,160}:\d{1,5}$/, 'peerUrl must be http(s)://<host>:<port>')
      .optional(),
  })
  .refine((i) => i.cpu.logicalProcessors >= i.cpu.sockets * i.cpu.coresPerSocket, {
    message: 'logical processors must be at least sockets × cores per socket',
    path: ['cpu', 'logicalProcessors'],
  })
  .refine((i) => new Set(i.nics.map((n) => n.name)).size === i.nics.length, {
    message: 'NIC names must be unique',
    path: ['nics'],
  })
  .refine((i) => new Set(i.storagePools.map((p) => p.name)).size === i.storagePools.length, {
    message: 'storage pool names must be unique',
    path: ['storagePools'],
  });

export type HostInventory = z.infer<typeof hostInventorySchema>;
