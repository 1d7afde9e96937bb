import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostnameSchema } from '@fabric/core/fabric/inventory.schema';
import { z } from 'zod';
import { DriverError } from '../driver';

/**
 * A simulated host's profile: the inventory it reports, plus how its usage
 * behaves. MAC addresses may be omitted: the driver derives them from the
 * host name, so many agents started from one profile with different
 * --hostname values do not report the same MACs. Limits (320 LPs, 4 TB) are
 * checked by hostInventorySchema when the inventory is built.
 */
export const simulatedProfileSchema = z.object({
  hostname: hostnameSchema,
  osName: z.string().max(200).default('Windows Server 2012 Datacenter'),
  cpu: z.object({
    model: z.string().min(1).max(128),
    mhz: z.number().int().min(1),
    sockets: z.number().int().min(1),
    coresPerSocket: z.number().int().min(1),
    logicalProcessors: z.number().int().min(1),
  }),
  memoryMiB: z.number().int().min(1),
  numaNodes: z.number().int().min(1),
  nics: z.array(
    z.object({
      name: z.string().min(1).max(128),
      macAddress: z.string().optional(),
      linkSpeedMbps: z.number().int().min(0),
      linkUp: z.boolean().default(true),
    }),
  ),
  storagePools: z.array(
    z.object({
      name: z.string().min(1).max(128),
      kind: z.enum(['local', 'csv', 'smb', 'san']),
      capacityBytes: z.number().int().min(0),
      usedBytes: z.number().int().min(0),
    }),
  ),
  simulation: z
    .object({
      /** Mixed with the host name, so hosts from one profile do not move in lockstep. */
      seed: z.number().int().default(1),
      /** Where CPU use hovers, percent. */
      cpuPercentMean: z.number().min(0).max(100).default(35),
      /** Typical step of the CPU walk per sample, percent points. */
      cpuPercentStep: z.number().min(0).max(50).default(4),
      /** Where memory use hovers, as a percent of memoryMiB. */
      memoryPercentMean: z.number().min(0).max(100).default(60),
      memoryPercentStep: z.number().min(0).max(50).default(1),
      /**
       * Share of VM operations that fail with DRIVER_ERROR, 0–1, drawn from a
       * generator seeded like the usage walk so a failing run can be replayed.
       */
      failureRate: z.number().min(0).max(1).default(0),
      /**
       * A guest's network load in Mbps (both directions), by VM name, instead of its character's: a noisy
       * neighbour for QoS (simulated-switch.ts). Re-read every interval, so a test can turn it on and off.
       */
      offeredMbps: z.record(z.string().min(1).max(64), z.number().min(0).max(400_000)).default({}),
    })
    .prefault({}),
});
export type SimulatedProfile = z.infer<typeof simulatedProfileSchema>;

/** Built-in profiles live beside src/, in apps/agent/profiles/NAME.json. */
export const PROFILES_DIR = fileURLToPath(new URL('../../../profiles/', import.meta.url));

const profileNamePattern = /^[a-z0-9][a-z0-9-]*$/;

/** A path (contains a slash or ends in .json) is used as is; a bare NAME is a built-in profile. */
export function resolveProfilePath(profile: string, cwd: string = process.cwd()): string {
  if (profile.includes('/') || profile.includes(path.sep) || profile.endsWith('.json')) {
    return path.resolve(cwd, profile);
  }
  if (!profileNamePattern.test(profile)) {
    throw new DriverError(`profile "${profile}" is neither a JSON file path nor a built-in profile name`);
  }
  return path.join(PROFILES_DIR, `${profile}.json`);
}

export async function readProfile(file: string): Promise<SimulatedProfile> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown error';
    throw new DriverError(`cannot read profile ${file} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new DriverError(`profile ${file} is not valid JSON`);
  }
  const parsed = simulatedProfileSchema.safeParse(json);
  if (!parsed.success) throw new DriverError(`profile ${file} is invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
