import { overviewSchema } from '@fabric/core/fabric/fabric.schema';
import { t } from '../../trpc/init';
import { providerReader } from '../../trpc/procedures';

export const fabricRouter = t.router({
  overview: providerReader.output(overviewSchema).query(({ ctx }) => ctx.services.fabric.overview()),
});
