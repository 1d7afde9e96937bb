import { CoreError } from '../shared/errors';

export type MeteringErrorCode =
  | 'ADDRESS_CLASS_LIMIT'
  | 'DUPLICATE_ADDRESS_CLASS'
  | 'ADDRESS_CLASS_OVERLAP'
  | 'ADDRESS_CLASS_NOT_FOUND'
  | 'ADDRESS_CLASS_IN_USE'
  | 'UNKNOWN_METERED_ACL';

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
