/**
 * The metered port ACLs the API asked this host to report (docs/agent-protocol.md,
 * "Metered port ACLs"): learned from every heartbeat answer, read by the
 * metering loop when it samples and when it sends. Kept in memory only: until
 * the first heartbeat answers, samples carry no ACLs, exactly as before.
 */
export class MeteredAcls {
  private names: readonly string[] = [];

  /** From a heartbeat answer; an API from before metered ACLs says nothing, which changes nothing. */
  adopt(acls: readonly { name: string }[] | undefined): void {
    if (acls === undefined) return;
    this.names = acls.map((a) => a.name);
  }

  current(): readonly string[] {
    return this.names;
  }
}
