import type { Scorer } from '../plugin';
import { groupCount } from '../snapshot';

/**
 * Soft groups only lean: +1 for each soft affinity group already on the host,
 * −1 for each VM of a soft anti-affinity group already there (two neighbours
 * weigh more than one).
 */
export const softAffinityScorer: Scorer = {
  name: 'soft-affinity',
  raw(host, { demand }) {
    let raw = 0;
    for (const group of demand.softAffinity) if (groupCount(host, group) > 0) raw += 1;
    for (const group of demand.softAntiAffinity) raw -= groupCount(host, group);
    return raw;
  },
};
