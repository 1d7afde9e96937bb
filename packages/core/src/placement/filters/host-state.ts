import { type Filter, PASS, reject } from '../plugin';

/** Only connected hosts take new VMs: a suspect host may be gone, a host in maintenance is being emptied. */
export const hostStateFilter: Filter = {
  name: 'host-state',
  check(host, ctx) {
    switch (host.state) {
      case 'connected':
        return PASS;
      case 'maintenance':
        return reject(ctx.explain, 'HOST_MAINTENANCE', () => 'host is in maintenance', {});
      case 'suspect':
        return reject(ctx.explain, 'HOST_SUSPECT', () => 'host is suspect (missed heartbeats)', {});
      case 'failed':
        return reject(ctx.explain, 'HOST_FAILED', () => 'host has failed', {});
    }
  },
};
