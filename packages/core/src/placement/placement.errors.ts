import { CoreError } from '../shared/errors';

export type PlacementErrorCode = 'HOST_NOT_FOUND' | 'HOST_REJECTS_VM' | 'INVALID_REQUEST';

export class PlacementError extends CoreError<PlacementErrorCode> {
  readonly module = 'placement';
}
