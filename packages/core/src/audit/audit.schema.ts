import { z } from 'zod';

export const listAuditInput = z.object({
  action: z.string().trim().max(100).optional(),
  result: z.enum(['success', 'denied', 'failure']).optional(),
  actorType: z.enum(['user', 'agent', 'system']).optional(),
  targetType: z.string().trim().max(50).optional(),
  targetId: z.string().trim().max(100).optional(),
  search: z.string().trim().max(100).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(10).max(200).default(50),
});
export type ListAuditInput = z.infer<typeof listAuditInput>;
