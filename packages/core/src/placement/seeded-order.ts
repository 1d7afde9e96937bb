/**
 * Ties between equally scored hosts break by a per-host key drawn from the
 * decision's seed, so a decision replays exactly from (snapshot, request,
 * seed) while different seeds spread ties differently. Insertion order of
 * hosts in the snapshot (a database artefact) never decides.
 */

/** FNV-1a, 32 bits: a cheap, stable hash of the host id. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** One output of mulberry32 seeded with `state` (Tommy Ettinger's small PRNG): mixes the hash with the seed. */
export function mulberry32(state: number): number {
  let t = (state + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export function tieKey(hostId: string, seed: number): number {
  return mulberry32(fnv1a32(hostId) ^ (seed >>> 0));
}

/** A seeded PRNG stream in [0, 1), for generators in tests and benchmarks. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    return mulberry32(state - 0x6d2b79f5) / 4294967296;
  };
}
