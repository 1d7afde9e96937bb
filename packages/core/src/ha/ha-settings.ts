import { z } from 'zod';
import { oneOf, wholeNumber } from '../shared/text.schema';
import { formatSeconds as sec } from '../shared/units';
import { ISOLATION_RESPONSES } from './ha-protocol.schema';

/**
 * A cluster's high-availability settings (docs/high-availability.md). Stored as
 * JSON on the cluster (`clusters.ha_settings`); `{}` means the defaults, HA off.
 *
 * The timeline of a host failure, from the host's last heartbeat (t = 0):
 * - t = detectionTimeout: the control plane opens a failure event (the host is
 *   silent; the second channel tells dead from cut off);
 * - t = isolationTimeout (on the host): an agent that has not reached the
 *   control plane since t = 0 applies the isolation response (power off or shut
 *   down its VMs) and records when;
 * - t = fencingTimeout: the lease has run out, so the host has self-fenced by
 *   now; the restart may begin (earlier with self-confirm or a BMC power-off).
 * With the defaults a VM runs again ≈ 30 s + its start after the last heartbeat.
 */
export const FENCE_METHODS = ['lease', 'self-confirm', 'bmc'] as const;
export type FenceMethod = (typeof FENCE_METHODS)[number];

export const ADMISSION_POLICIES = ['host-failures', 'reserved-percentage'] as const;
export type AdmissionPolicy = (typeof ADMISSION_POLICIES)[number];

export const HA_PRIORITIES = ['high', 'medium', 'low', 'off'] as const;
export type HaPriority = (typeof HA_PRIORITIES)[number];

// Limits and rules are said in seconds, the unit the console's fields take (the API's fields are …Ms).
const ms = (label: string, min: number, max: number) =>
  z
    .number({ error: `${label} must be a number of milliseconds` })
    .int(`${label} must be a whole number of milliseconds`)
    .min(min, `${label} must be at least ${sec(min)}`)
    .max(max, `${label} must be at most ${sec(max)}`);

/** Each setting's type and limits, without defaults (a patch names only what it changes). */
const haSettingFields = {
  enabled: z.boolean({ error: 'enabled must be true or false' }),
  /** A host silent this long opens a failure event. */
  detectionTimeoutMs: ms('detection timeout', 1000, 600_000),
  /** An agent that cannot reach the control plane this long applies the isolation response. */
  isolationTimeoutMs: ms('isolation timeout', 1000, 600_000),
  /** A host that has not renewed its lease (heartbeat) this long has self-fenced. */
  fencingTimeoutMs: ms('fencing timeout', 1000, 900_000),
  isolationResponse: oneOf('isolation response', ISOLATION_RESPONSES),
  fenceMethod: oneOf('fence method', FENCE_METHODS),
  /** Restarts in flight at once on one target host. */
  restartConcurrencyPerHost: wholeNumber('restart concurrency per host', 1, 64),
  /** Refuse a new VM or a start that would leave the cluster unable to restart its HA VMs (ha/admission.ts). */
  admissionControl: z.boolean({ error: 'admission control must be true or false' }),
  /**
   * What admission control keeps free: room to restart the running HA VMs of any `hostFailuresToTolerate`
   * hosts lost at once (vCenter's "host failures cluster tolerates"), or `reservedCapacityPercent` of the
   * connected hosts' CPU and memory unused by running VMs (vCenter's "percentage of cluster resources").
   */
  admissionPolicy: oneOf('admission policy', ADMISSION_POLICIES),
  hostFailuresToTolerate: wholeNumber('host failures to tolerate', 1, 4),
  reservedCapacityPercent: wholeNumber('reserved capacity', 1, 90, ' %'),
  /** Hysteresis: a host that came back is not a restart target until it has been heard from this long. */
  stableAfterReturnMs: ms('stable-after-return time', 0, 600_000),
};

export const haSettingsSchema = z.object({
  enabled: haSettingFields.enabled.default(false),
  detectionTimeoutMs: haSettingFields.detectionTimeoutMs.default(20_000),
  isolationTimeoutMs: haSettingFields.isolationTimeoutMs.default(20_000),
  fencingTimeoutMs: haSettingFields.fencingTimeoutMs.default(30_000),
  isolationResponse: haSettingFields.isolationResponse.default('power-off'),
  fenceMethod: haSettingFields.fenceMethod.default('lease'),
  restartConcurrencyPerHost: haSettingFields.restartConcurrencyPerHost.default(4),
  admissionControl: haSettingFields.admissionControl.default(false),
  admissionPolicy: haSettingFields.admissionPolicy.default('host-failures'),
  hostFailuresToTolerate: haSettingFields.hostFailuresToTolerate.default(1),
  reservedCapacityPercent: haSettingFields.reservedCapacityPercent.default(25),
  stableAfterReturnMs: haSettingFields.stableAfterReturnMs.default(10_000),
});
export type HaSettings = z.infer<typeof haSettingsSchema>;

/** Input to change settings: any subset; the rest stays. */
export const haSettingsPatchSchema = z.object(haSettingFields).partial().strict();
export type HaSettingsPatch = z.infer<typeof haSettingsPatchSchema>;

export const DEFAULT_HA_SETTINGS: HaSettings = haSettingsSchema.parse({});

/** The stored JSON as settings: unknown or broken values fall back to the defaults (never throws). */
export function readHaSettings(stored: unknown): HaSettings {
  const parsed = haSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DEFAULT_HA_SETTINGS;
}

/** A rule the settings break: which rule, for people, and the fields it is about. */
export interface HaSettingsViolation {
  rule: string;
  message: string;
  fields: (keyof HaSettings)[];
}

/**
 * The rules between settings; each broken one is returned with its reason.
 * `heartbeatIntervalMs` is the fabric's (agents heartbeat that often).
 */
export function haSettingsViolations(s: HaSettings, heartbeatIntervalMs: number): HaSettingsViolation[] {
  const out: HaSettingsViolation[] = [];
  if (s.fencingTimeoutMs < s.isolationTimeoutMs + heartbeatIntervalMs) {
    out.push({
      rule: 'fencing-after-isolation',
      message:
        `The fencing timeout (${sec(s.fencingTimeoutMs)}) must be at least the isolation timeout plus a heartbeat ` +
        `interval (${sec(s.isolationTimeoutMs)} + ${sec(heartbeatIntervalMs)} = ${sec(s.isolationTimeoutMs + heartbeatIntervalMs)}): ` +
        'a host cut off just after a heartbeat must have applied its isolation response before its lease is taken as fenced',
      fields: ['fencingTimeoutMs', 'isolationTimeoutMs'],
    });
  }
  if (s.detectionTimeoutMs < 2 * heartbeatIntervalMs) {
    out.push({
      rule: 'detection-after-two-heartbeats',
      message:
        `The detection timeout (${sec(s.detectionTimeoutMs)}) must be at least two heartbeat intervals ` +
        `(${sec(2 * heartbeatIntervalMs)}): one late heartbeat is not a failure`,
      fields: ['detectionTimeoutMs'],
    });
  }
  if (s.detectionTimeoutMs > s.fencingTimeoutMs) {
    out.push({
      rule: 'detection-before-fencing',
      message: `The detection timeout (${sec(s.detectionTimeoutMs)}) must not exceed the fencing timeout (${sec(s.fencingTimeoutMs)})`,
      fields: ['detectionTimeoutMs', 'fencingTimeoutMs'],
    });
  }
  if (s.isolationResponse === 'keep-running' && s.fenceMethod !== 'bmc') {
    out.push({
      rule: 'fencing-needs-isolation-response',
      message:
        `With the isolation response "keep-running" a cut-off host keeps its VMs running, so neither its lease nor ` +
        `its own word fences it: choose "shut-down" or "power-off", or fence through the BMC`,
      fields: ['isolationResponse', 'fenceMethod'],
    });
  }
  return out;
}
