import { createHash } from 'node:crypto';
import type { HostInventory } from './inventory.schema';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** SHA-256 of the inventory as JSON with sorted keys: equal inventories hash equal. */
export function inventoryHash(inventory: HostInventory): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(inventory)))
    .digest('hex')
    .slice(0, 32);
}
