import { t } from '../trpc/init';
import { auditRouter } from './audit/router';
import { authRouter } from './auth/router';
import { chargebackRouter } from './chargeback/router';
import { clustersRouter } from './clusters/router';
import { fabricRouter } from './fabric/router';
import { haRouter } from './ha/router';
import { hostsRouter } from './hosts/router';
import { meteringRouter } from './metering/router';
import { mobilityRouter } from './mobility/router';
import { networkRouter } from './network/router';
import { placementRouter } from './placement/router';
import { portalRouter } from './portal/router';
import { quotasRouter } from './quotas/router';
import { rebalanceRouter } from './rebalance/router';
import { replicationRouter } from './replication/router';
import { tasksRouter } from './tasks/router';
import { tenantsRouter } from './tenants/router';
import { tokensRouter } from './tokens/router';
import { usersRouter } from './users/router';
import { vmsRouter } from './vms/router';

export const appRouter = t.router({
  auth: authRouter,
  fabric: fabricRouter,
  clusters: clustersRouter,
  tokens: tokensRouter,
  hosts: hostsRouter,
  tenants: tenantsRouter,
  users: usersRouter,
  audit: auditRouter,
  portal: portalRouter,
  vms: vmsRouter,
  quotas: quotasRouter,
  placement: placementRouter,
  metering: meteringRouter,
  chargeback: chargebackRouter,
  tasks: tasksRouter,
  ha: haRouter,
  replication: replicationRouter,
  network: networkRouter,
  mobility: mobilityRouter,
  rebalance: rebalanceRouter,
});

export type AppRouter = typeof appRouter;
