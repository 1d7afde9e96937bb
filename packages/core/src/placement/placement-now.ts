/**
 * A VM's placement decision is kept as it was made (replayable: "why this
 * host?"), but the VM does not stay put: a live migration, a rebalancing round
 * or an HA restart moves it later. The VM page must then not present the old
 * decision as where the VM runs. This reads the decision against where the VM
 * is now and the latest move after the decision.
 */

/** What moved a VM: an admin's migration (live or cold), a rebalancing round's, an HA restart, or unknown (a replica failover). */
export const VM_MOVE_CAUSES = ['migration', 'rebalance', 'ha', 'other'] as const;
export type VmMoveCause = (typeof VM_MOVE_CAUSES)[number];

export interface VmMoveFact {
  readonly cause: VmMoveCause;
  readonly at: Date;
}

export interface DecisionFact {
  readonly hostId: string | null;
  readonly hostName: string | null;
  readonly createdAt: Date;
}

const BY: Record<VmMoveCause, string> = {
  migration: ' by a migration',
  rebalance: ' by rebalancing',
  ha: ' by an HA restart',
  other: '',
};

export interface MovedSince {
  readonly cause: VmMoveCause;
  /** When the move that counts happened; null when only the host differs (no move on record). */
  readonly at: Date | null;
  /** "Now on hv-02: moved by a migration after this placement (which chose hv-01)". */
  readonly text: string;
}

/**
 * Null when the VM is still where the decision put it and nothing moved it
 * since; otherwise what moved it (the latest move after the decision; a move
 * back to the decided host still counts: the decision no longer explains why
 * it is there).
 */
export function movedSincePlacement(
  decision: DecisionFact,
  current: { readonly hostId: string | null; readonly hostName: string | null },
  moves: readonly VmMoveFact[],
): MovedSince | null {
  const after = moves
    .filter((m) => m.at.getTime() > decision.createdAt.getTime())
    .sort((a, b) => b.at.getTime() - a.at.getTime());
  const latest = after[0];
  const elsewhere = current.hostId !== decision.hostId;
  if (!latest && !elsewhere) return null;
  const cause = latest?.cause ?? 'other';
  const where = current.hostName ? `Now on ${current.hostName}` : 'Now on no host';
  const chose = decision.hostName ? ` (which chose ${decision.hostName})` : '';
  return { cause, at: latest?.at ?? null, text: `${where}: moved${BY[cause]} after this placement${chose}` };
}
