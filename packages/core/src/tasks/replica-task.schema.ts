/**
 * The replica.* task params and results (shared contract part 4). The file is
 * replica-task-protocol.schema.ts, so the agent may import it (it imports only
 * *-protocol.schema files from core); this name is the one the contract gives.
 */
export * from './replica-task-protocol.schema';
