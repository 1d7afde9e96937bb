import { z } from 'zod';

/**
 * A cluster's dynamic optimization settings (issue 12, "Dynamic optimization").
 * Stored as JSON on the cluster (`clusters.rebalance_settings`); `{}` means the
 * defaults, rebalancing off.
 *
 * The hysteresis is Proxmox VE 9.2's auto-rebalance (threshold / hold / margin):
 * a round acts only when the cluster's imbalance (the coefficient of variation
 * of host load, rebalance.ts) has been above `threshold` for `holdRounds`
 * rounds in a row, and then moves VMs until it is back at the threshold; a move
 * is proposed only if it lowers the imbalance and closes at least
 * `minImprovement` of the load gap between its source and its target. Proxmox
 * measures its margin (0.1) against the whole cluster's imbalance, which suits
 * its few nodes; at 64 hosts and 4,000 VMs no single move changes that by more
 * than about 1 %, so every move would be refused. Against the pair's gap, 0.1
 * still refuses the moves a hot host needs when its VMs are small (a 4-vCPU VM
 * is 3 % of a 64-LP host: it closes 4 % of a 150-point gap), and 0.05 plans as
 * well as no margin at all while keeping the moves that gain nothing out
 * (bench/rebalance.bench.ts: 0.714 → 0.489 in 100 moves, at 0.1 → 0.712).
 */
export const REBALANCE_MODES = ['off', 'recommend', 'automatic'] as const;
export type RebalanceMode = (typeof REBALANCE_MODES)[number];

/** balance: spread measured load; consolidate: empty the least-loaded hosts so they can be powered off. */
export const REBALANCE_GOALS = ['balance', 'consolidate'] as const;
export type RebalanceGoal = (typeof REBALANCE_GOALS)[number];

const rebalanceSettingFields = {
  mode: z.enum(REBALANCE_MODES, { message: "mode must be 'off', 'recommend' or 'automatic'" }),
  goal: z.enum(REBALANCE_GOALS, { message: "goal must be 'balance' or 'consolidate'" }),
  /** Between rounds (VMM's Dynamic Optimization default: 10 minutes). */
  intervalMinutes: z
    .number({ message: 'the interval must be a number of minutes' })
    .int('the interval must be a whole number of minutes')
    .min(1, 'the interval must be at least 1 minute')
    .max(1440, 'the interval must be at most 1,440 minutes (a day)'),
  /** Imbalance (coefficient of variation of host load, 0 = even) above which a round may act. */
  threshold: z
    .number({ message: 'the threshold must be a number' })
    .min(0.01, 'the threshold must be at least 0.01')
    .max(2, 'the threshold must be at most 2'),
  /** Rounds in a row the trigger must hold before anything moves. */
  holdRounds: z
    .number({ message: 'hold rounds must be a number' })
    .int('hold rounds must be a whole number')
    .min(1, 'hold rounds must be at least 1')
    .max(20, 'hold rounds must be at most 20'),
  /** A move must close at least this share of the load gap between its two hosts (0.05 = 5 %). */
  minImprovement: z
    .number({ message: 'the minimum improvement must be a number' })
    .min(0, 'the minimum improvement must be at least 0')
    .max(1, 'the minimum improvement must be at most 1 (100 %)'),
  /** Migrations one round may start or recommend (CloudStack's drs.max.migrations). */
  maxMovesPerRound: z
    .number({ message: 'moves per round must be a number' })
    .int('moves per round must be a whole number')
    .min(1, 'moves per round must be at least 1')
    .max(100, 'moves per round must be at most 100'),
  /** Consolidation fills a host up to this measured load (CPU and memory), never above. */
  consolidationMaxLoadPercent: z
    .number({ message: 'the consolidation ceiling must be a number' })
    .int('the consolidation ceiling must be a whole percentage')
    .min(10, 'the consolidation ceiling must be at least 10 %')
    .max(100, 'the consolidation ceiling must be at most 100 %'),
};

export const rebalanceSettingsSchema = z.object({
  mode: rebalanceSettingFields.mode.default('off'),
  goal: rebalanceSettingFields.goal.default('balance'),
  intervalMinutes: rebalanceSettingFields.intervalMinutes.default(10),
  threshold: rebalanceSettingFields.threshold.default(0.3),
  holdRounds: rebalanceSettingFields.holdRounds.default(3),
  minImprovement: rebalanceSettingFields.minImprovement.default(0.05),
  maxMovesPerRound: rebalanceSettingFields.maxMovesPerRound.default(10),
  consolidationMaxLoadPercent: rebalanceSettingFields.consolidationMaxLoadPercent.default(80),
});
export type RebalanceSettings = z.infer<typeof rebalanceSettingsSchema>;

/** Input to change settings: any subset; the rest stays. */
export const rebalanceSettingsPatchSchema = z.object(rebalanceSettingFields).partial().strict();
export type RebalanceSettingsPatch = z.infer<typeof rebalanceSettingsPatchSchema>;

export const DEFAULT_REBALANCE_SETTINGS: RebalanceSettings = rebalanceSettingsSchema.parse({});

/** The stored JSON as settings: unknown or broken values fall back to the defaults (never throws). */
export function readRebalanceSettings(stored: unknown): RebalanceSettings {
  const parsed = rebalanceSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DEFAULT_REBALANCE_SETTINGS;
}

const uuid = (what: string) => z.string().uuid({ message: `${what} must be a ${what.replace(/Id$/, '')} id (uuid)` });

/** Inputs of the rebalancing procedures. */
export const rebalanceClusterInput = z.object({ clusterId: uuid('clusterId') }).strict();
export const updateRebalanceSettingsInput = z
  .object({ clusterId: uuid('clusterId'), settings: rebalanceSettingsPatchSchema })
  .strict();
export const applyRecommendationInput = z.object({ recommendationId: uuid('recommendationId') }).strict();
