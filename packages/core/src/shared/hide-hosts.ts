/**
 * Which host runs a VM is the provider's business (issue 9): a tenant reads
 * no host name anywhere, not as an activity's actor, not inside a placement
 * summary ("Placed on hv-prod-05 …"), an agent's message or an error. Text
 * meant for tenants passes through here with the provider's host names
 * replaced by HIDDEN_HOST.
 */
export const HIDDEN_HOST = 'a host';

/** Fields that carry free text; names and ids (the tenant's own VM names among them) are left as they are. */
const TEXT_KEYS = new Set([
  'message',
  'summary',
  'detail',
  'reason',
  'actorLabel',
  'errorMessage',
  'stateMessage',
  'error',
]);
/** Fields that name a host outright: a tenant gets null. */
const HOST_KEYS = new Set(['hostId', 'hostName']);

/** Replaces each whole host name (also as the first label of a longer DNS name) in a text. */
export function hostNameRedactor(names: readonly string[]): (text: string) => string {
  const usable = [...new Set(names.filter((n) => n.length > 0))].sort((a, b) => b.length - a.length);
  if (usable.length === 0) return (text) => text;
  const escaped = usable.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // Host names are letters, digits, '-' and '.': a name inside a longer word is not that host.
  const pattern = new RegExp(`(?<![A-Za-z0-9-])(?:${escaped.join('|')})(?:\\.[A-Za-z0-9-]+)*(?![A-Za-z0-9-])`, 'gi');
  return (text) => text.replace(pattern, HIDDEN_HOST);
}

/** A copy of `value` (JSON-like: plain objects, arrays, Dates) with host names hidden from its text fields. */
export function hideHosts<T>(value: T, redact: (text: string) => string): T {
  return walk(value, redact, null) as T;
}

function walk(value: unknown, redact: (text: string) => string, key: string | null): unknown {
  if (typeof value === 'string') return key !== null && TEXT_KEYS.has(key) ? redact(value) : value;
  if (Array.isArray(value)) return value.map((item) => walk(item, redact, key));
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = HOST_KEYS.has(k) && (typeof v === 'string' || v === null) ? null : walk(v, redact, k);
  }
  return out;
}
