import { CoreError } from '../shared/errors';
import type { SampleRefusal } from './sample-plausibility';

export type MeteringErrorCode =
  | 'ADDRESS_CLASS_LIMIT'
  | 'DUPLICATE_ADDRESS_CLASS'
  | 'ADDRESS_CLASS_OVERLAP'
  | 'ADDRESS_CLASS_NOT_FOUND'
  | 'ADDRESS_CLASS_IN_USE'
  | 'UNKNOWN_METERED_ACL'
  | 'IMPLAUSIBLE_SAMPLES';

export class MeteringError extends CoreError<MeteringErrorCode> {
  readonly module = 'metering';
}

/** A sample names ACLs that are not defined classes: the whole batch is refused (nothing stored). */
export function unknownAclError(names: readonly string[]): MeteringError {
  const list = [...names]
    .sort()
    .slice(0, 5)
    .map((n) => `"${n}"`)
    .join(', ');
  return new MeteringError(
    'UNKNOWN_METERED_ACL',
    `Samples name metered ACLs that are not defined address classes: ${list}${names.length > 5 ? ', …' : ''}. ` +
      'Nothing was stored; resend without them or after the provider defines them (the heartbeat answer lists the classes)',
  );
}

/**
 * A batch with samples that cannot be true (sample-plausibility.ts): refused
 * whole, nothing stored, with a verdict per refused sample so an agent can
 * send the rest again without them (docs/agent-protocol.md, "Samples").
 */
export class SamplesRefusedError extends MeteringError {
  constructor(readonly samples: readonly SampleRefusal[]) {
    const first = samples
      .slice(0, 3)
      .map((r) => `#${r.index} (VM ${r.vmId} at ${r.at}) ${r.code}: ${r.message}`)
      .join('; ');
    super(
      'IMPLAUSIBLE_SAMPLES',
      `${samples.length} sample(s) cannot be true: ${first}${samples.length > 3 ? '; …' : ''}. ` +
        'Nothing was stored; send the batch again without the samples listed in error.samples',
    );
  }
}
