import { type Filter, PASS } from '../plugin';
import { assignStorage } from '../reservation';

/** Room for every disk: named disks in their pool, the others together in one pool (reservation.ts decides which). */
export const storageFilter: Filter = {
  name: 'storage',
  check(host, { request, demand, explain }) {
    if (request.disks.length === 0) return PASS;
    const result = assignStorage(host, request, demand, explain);
    return result.ok ? PASS : result;
  },
};
