import type { AddressClass } from './address-class.schema';

/** The provider's metered address classes (table metered_address_classes). */
export interface AddressClassRepository {
  /** Every class, by name. */
  list(): Promise<AddressClass[]>;
  /**
   * Serialises changes to the set of classes until the transaction ends, so
   * two admins defining the 16th class at once cannot both succeed.
   */
  lockAll(): Promise<void>;
  insert(name: string, remoteAddresses: string[], createdBy: string): Promise<AddressClass>;
  /**
   * Locks the class's row until the transaction ends (ingest takes a share
   * lock on the classes it writes, so no sample can land while it is removed);
   * null when there is no such class.
   */
  findForUpdate(name: string): Promise<AddressClass | null>;
  /** Whether any sample or rollup carries bytes of this class. */
  hasUsage(name: string): Promise<boolean>;
  delete(name: string): Promise<void>;
}
