import { listAuditInput } from '@fabric/core/audit/audit.schema';
import { auditRowSchema } from '@fabric/core/fabric/fabric.schema';
import { scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { auditReader } from '../../trpc/procedures';

export const auditRouter = t.router({
  list: auditReader
    .input(listAuditInput)
    .output(z.object({ rows: z.array(auditRowSchema), total: z.number() }))
    .query(({ ctx, input }) => ctx.services.audit.list(scopeOf(ctx.caller), input)),
});
