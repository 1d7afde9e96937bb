import { t } from '../trpc/init';
import { auditRouter } from './audit/router';
import { authRouter } from './auth/router';
import { chargebackRouter } from './chargeback/router';
import { clustersRouter } from './clusters/router';
import { fabricRouter } from './fabric/router';
import { hostsRouter } from './hosts/router';
import { meteringRouter } from './metering/router';
import { placementRouter } from './placement/router';
import { portalRouter } from './portal/router';
import { quotasRouter } from './quotas/router';
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
});

export type AppRouter = typeof appRouter;
