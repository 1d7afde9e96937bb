import { CoreError } from '../shared/errors';

export type JobErrorCode = 'TASK_NOT_FOUND' | 'TASK_ALREADY_ACTIVE' | 'TASK_FAILED';

export class JobError extends CoreError<JobErrorCode> {
  readonly module = 'jobs';
}
