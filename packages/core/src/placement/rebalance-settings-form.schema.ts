import {
  type RebalanceSettings,
  type RebalanceSettingsPatch,
  rebalanceSettingsPatchSchema,
} from './rebalance-settings.schema';

/**
 * The rebalancing settings form's text, read as people write numbers: decimal
 * digits with an optional sign and point ("10", "0.3", "-1", ".5"). JavaScript's
 * Number() also reads "0x0A" (10), "0b11", "1e3", "Infinity" and " 12 "; the
 * form would then save a value the user never typed. Anything else is refused
 * beside its field with this rule, before the schema's ranges.
 */
export const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export type RebalanceNumberField = Exclude<keyof RebalanceSettings, 'mode' | 'goal'>;

/** The form's fields as the inputs hold them; the minimum improvement is a percentage there. */
export type RebalanceSettingsDraft = Record<RebalanceNumberField, string> & Pick<RebalanceSettings, 'mode' | 'goal'>;

const LABEL: Record<RebalanceNumberField, string> = {
  intervalMinutes: 'the interval',
  threshold: 'the threshold',
  holdRounds: 'hold rounds',
  minImprovement: 'the minimum improvement',
  maxMovesPerRound: 'moves per round',
  consolidationMaxLoadPercent: 'the consolidation ceiling',
};

/** Whole-number fields take digits only (optionally signed): "abc" is not "a decimal number" there. */
export const WHOLE_TEXT = /^[+-]?\d+$/;

const WHOLE: ReadonlySet<RebalanceNumberField> = new Set([
  'intervalMinutes',
  'holdRounds',
  'maxMovesPerRound',
  'consolidationMaxLoadPercent',
]);

/** A whole-number field's text as a number, or the rule it breaks. */
export function parseWholeText(
  text: string,
  label: string,
): { ok: true; value: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: `${label} is required` };
  if (!WHOLE_TEXT.test(trimmed)) {
    return { ok: false, error: `${label} must be a whole number (digits only), not "${trimmed}"` };
  }
  return { ok: true, value: Number(trimmed) };
}

/**
 * The minimum improvement is a percentage in the form (a share 0–1 in the
 * schema): its range is said in percent, where "500" read "must be at most 1".
 */
function minImprovementPercentError(percent: number): string | null {
  if (percent < 0) return 'the minimum improvement must be at least 0 %';
  if (percent > 100) return 'the minimum improvement must be at most 100 %';
  return null;
}

/** A field's text as a number, or the rule it breaks. */
export function parseDecimalText(
  text: string,
  label: string,
): { ok: true; value: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: `${label} is required` };
  if (!DECIMAL_TEXT.test(trimmed)) {
    return { ok: false, error: `${label} must be a decimal number (digits, optionally a point), not "${trimmed}"` };
  }
  return { ok: true, value: Number(trimmed) };
}

/** The draft as a settings patch (core's schema, ranges included), or each field's error. */
export function parseRebalanceSettingsDraft(
  draft: RebalanceSettingsDraft,
):
  | { ok: true; patch: RebalanceSettingsPatch }
  | { ok: false; errors: Partial<Record<keyof RebalanceSettings, string>> } {
  const errors: Partial<Record<keyof RebalanceSettings, string>> = {};
  const numbers: Partial<Record<RebalanceNumberField, number>> = {};
  for (const key of Object.keys(LABEL) as RebalanceNumberField[]) {
    const parsed = WHOLE.has(key) ? parseWholeText(draft[key], LABEL[key]) : parseDecimalText(draft[key], LABEL[key]);
    if (!parsed.ok) errors[key] = parsed.error;
    else if (key !== 'minImprovement') numbers[key] = parsed.value;
    else {
      const outOfRange = minImprovementPercentError(parsed.value);
      if (outOfRange) errors[key] = outOfRange;
      else numbers[key] = parsed.value / 100;
    }
  }
  const result = rebalanceSettingsPatchSchema.safeParse({ mode: draft.mode, goal: draft.goal, ...numbers });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0]) as keyof RebalanceSettings;
      errors[key] ??= issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !result.success) return { ok: false, errors };
  return { ok: true, patch: result.data };
}
