import { z } from 'zod';
import { dateInRange, oneOf, SEARCH_MAX_LENGTH, searchText } from '../shared/text.schema';

export const listAuditInput = z.object({
  /** An action or its prefix ('vm.'), matched literally. */
  action: searchText('Action', 100),
  result: oneOf('Result', ['success', 'denied', 'failure']).optional(),
  actorType: oneOf('Actor type', ['user', 'agent', 'system']).optional(),
  targetType: searchText('Target type', 50),
  targetId: searchText('Target id', 100),
  search: searchText('Search', SEARCH_MAX_LENGTH),
  from: dateInRange('From').optional(),
  to: dateInRange('To').optional(),
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(10).max(200).default(50),
});
export type ListAuditInput = z.infer<typeof listAuditInput>;
