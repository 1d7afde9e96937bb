import { z } from 'zod';
import { vmPatternFields } from '../shared/vm-pattern.schema';

/** Hyper-V Replica's replication frequencies (Windows Server 2012 R2): 30 s, 5 min, 15 min. */
export const REPLICATION_FREQUENCIES = [30, 300, 900] as const;
export type ReplicationFrequency = (typeof REPLICATION_FREQUENCIES)[number];

export const REPLICATION_LIMITS = {
  /** Additional hourly recovery points kept beside the latest. */
  additionalPointsMax: 24,
  appConsistentHours: { min: 1, max: 12 },
  /** A scheduled initial replication at most this far ahead. */
  scheduleAheadDays: 7,
  /** RPO compliance period at most this long. */
  complianceDays: 31,
  listLimit: 500,
  authorizationsPerCluster: 200,
  storagePoolLength: 64,
} as const;
const L = REPLICATION_LIMITS;

export const INITIAL_MODES = ['now', 'scheduled', 'existing-copy'] as const;
export type InitialMode = (typeof INITIAL_MODES)[number];

export const REPLICATION_STATES = [
  'initial-pending',
  'initial-running',
  'replicating',
  'paused',
  'resync-needed',
  'failing-over',
  'failover-pending',
  'failed-over',
  'test-failover',
  'error',
  /** Replication removed: the replica is being deleted, no cycles run. */
  'removing',
] as const;
export type ReplicationState = (typeof REPLICATION_STATES)[number];

export const HEALTH_LEVELS = ['normal', 'warning', 'critical'] as const;
export type Health = (typeof HEALTH_LEVELS)[number];

const uuid = (what: string) => z.uuid({ error: `${what} must be an id (uuid)` });

const frequencySchema = z.union(
  REPLICATION_FREQUENCIES.map((f) => z.literal(f)),
  {
    error: `Replication frequency must be one of ${REPLICATION_FREQUENCIES.join(', ')} seconds (30 s, 5 min or 15 min)`,
  },
);

export const replicaTargetSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('host'), hostId: uuid('Replica host') }),
    z.strictObject({ kind: z.literal('cluster'), clusterId: uuid('Replica cluster') }),
  ],
  { error: 'Replica target must be { kind: "host", hostId } or { kind: "cluster", clusterId }' },
);
export type ReplicaTarget = z.infer<typeof replicaTargetSchema>;

const enableFields = z.strictObject({
  vmId: uuid('VM'),
  target: replicaTargetSchema,
  frequencySeconds: frequencySchema,
  additionalPoints: z
    .number({ error: 'Additional recovery points must be a number' })
    .int('Additional recovery points must be a whole number')
    .min(0, 'Additional recovery points must be at least 0')
    .max(L.additionalPointsMax, `Additional recovery points must be at most ${L.additionalPointsMax} (hourly, one day)`)
    .default(0),
  appConsistentHours: z
    .number({ error: 'Application-consistent interval must be a number of hours' })
    .int('Application-consistent interval must be a whole number of hours')
    .min(L.appConsistentHours.min, `Application-consistent interval must be at least ${L.appConsistentHours.min} hour`)
    .max(L.appConsistentHours.max, `Application-consistent interval must be at most ${L.appConsistentHours.max} hours`)
    .nullable()
    .default(null),
  initialMode: z
    .enum(INITIAL_MODES, { error: `Initial replication must be one of ${INITIAL_MODES.join(', ')}` })
    .default('now'),
  initialAt: z.iso
    .datetime({ error: 'Initial replication time must be an ISO date-time', offset: true })
    .nullable()
    .default(null),
  compression: z.boolean({ error: 'Compression must be true or false' }).default(true),
});

/**
 * A time belongs to a scheduled initial replication only: with 'now' or 'existing-copy' it was accepted and
 * ignored (hostile probe), so a caller believing it had scheduled the copy got one at once.
 */
function initialAtOnlyWhenScheduled(
  input: { initialMode: InitialMode; initialAt: string | null },
  ctx: z.RefinementCtx,
) {
  if (input.initialAt !== null && input.initialMode !== 'scheduled')
    ctx.addIssue({
      code: 'custom',
      path: ['initialAt'],
      message: `Initial replication time is for initialMode 'scheduled' only; initialMode '${input.initialMode}' starts without one (leave initialAt out)`,
    });
}

export const enableReplicationSchema = enableFields.superRefine(initialAtOnlyWhenScheduled);
export type EnableReplicationInput = z.infer<typeof enableReplicationSchema>;

/**
 * Enable replication for every VM matching a pattern (`Enable-VMReplication -VMName web*`), with one set of
 * settings: those of the single enable, without its VM.
 */
export const enableByPatternSchema = enableFields
  .omit({ vmId: true })
  .extend(vmPatternFields)
  .strict()
  .superRefine(initialAtOnlyWhenScheduled);
export type EnableByPatternInput = z.infer<typeof enableByPatternSchema>;

/** Hyper-V Replica's three failovers: test (an isolated copy), planned (no data lost), unplanned (from a point). */
export const FAILOVER_KINDS = ['test', 'planned', 'unplanned'] as const;
export type FailoverKind = (typeof FAILOVER_KINDS)[number];

/**
 * Which recovery point a test or unplanned failover starts from when it names none: the latest, the latest
 * application-consistent one (the guest quiesced for it), or the newest taken at or before a time.
 */
export const POINT_CHOICES = ['latest', 'latest-app-consistent', 'at-or-before'] as const;
export const pointChoiceSchema = z.discriminatedUnion(
  'choice',
  [
    z.strictObject({ choice: z.literal('latest') }),
    z.strictObject({ choice: z.literal('latest-app-consistent') }),
    z.strictObject({
      choice: z.literal('at-or-before'),
      at: z.iso.datetime({ error: 'The recovery point time must be an ISO date-time', offset: true }),
    }),
  ],
  {
    error:
      'Recovery point must be { choice: "latest" }, { choice: "latest-app-consistent" } or { choice: "at-or-before", at }',
  },
);
export type PointChoice = z.infer<typeof pointChoiceSchema>;

/** A failover of every matching VM; test and unplanned start from each VM's point of `point` (the latest by default). */
export const failoverByPatternSchema = z
  .strictObject({
    ...vmPatternFields,
    kind: z.enum(FAILOVER_KINDS, { error: `Failover kind must be one of ${FAILOVER_KINDS.join(', ')}` }),
    point: pointChoiceSchema.default({ choice: 'latest' }),
  })
  .refine((v) => v.kind !== 'planned' || v.point.choice === 'latest', {
    message: 'A planned failover sends the last changes first and starts from them; it takes no recovery point',
    path: ['point'],
  });
export type FailoverByPatternInput = z.infer<typeof failoverByPatternSchema>;

export const relationshipIdSchema = z.strictObject({ relationshipId: uuid('Replication') });
export const vmIdSchema = z.strictObject({ vmId: uuid('VM') });

export const testFailoverSchema = z.strictObject({
  vmId: uuid('VM'),
  /** The recovery point to test from; the latest when absent. */
  pointId: uuid('Recovery point').optional(),
});
export const unplannedFailoverSchema = testFailoverSchema;

export const authorizationSchema = z.strictObject({
  replicaClusterId: uuid('Replica cluster'),
  replicaHostId: uuid('Replica host').nullable().default(null),
  tenantId: uuid('Tenant').nullable().default(null),
  primaryClusterId: uuid('Primary cluster').nullable().default(null),
  storagePool: z
    .string({ error: 'Storage pool must be text' })
    .trim()
    .min(1, 'Storage pool is required')
    .max(L.storagePoolLength, `Storage pool must be at most ${L.storagePoolLength} characters`)
    .regex(/^[A-Za-z0-9._-]+$/, 'Storage pool may hold letters, digits, dots, hyphens and underscores'),
});
export type AuthorizationInput = z.infer<typeof authorizationSchema>;

export const complianceSchema = z
  .strictObject({
    from: z.iso.datetime({ error: 'from must be an ISO date-time', offset: true }),
    to: z.iso.datetime({ error: 'to must be an ISO date-time', offset: true }),
    bucketMinutes: z
      .number()
      .int()
      .min(5, 'Heatmap bucket must be at least 5 minutes')
      .max(1440, 'Heatmap bucket must be at most 1,440 minutes (a day)')
      .default(60),
  })
  .refine((v) => Date.parse(v.from) < Date.parse(v.to), { message: 'from must be before to', path: ['to'] })
  .refine((v) => Date.parse(v.to) - Date.parse(v.from) <= L.complianceDays * 86_400_000, {
    message: `A compliance period is at most ${L.complianceDays} days`,
    path: ['to'],
  });
export type ComplianceInput = z.infer<typeof complianceSchema>;
