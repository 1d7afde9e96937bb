import type { ChargebackErrorCode } from '@fabric/core/chargeback/chargeback.errors';
import type { ExportErrorCode } from '@fabric/core/chargeback/export.errors';
import type { InvoiceErrorCode } from '@fabric/core/chargeback/invoice.errors';
import type { ComputeErrorCode } from '@fabric/core/compute/compute.errors';
import type { FabricErrorCode } from '@fabric/core/fabric/fabric.errors';
import type { JobErrorCode } from '@fabric/core/jobs/job.errors';
import type { MeteringErrorCode } from '@fabric/core/metering/metering.errors';
import type { MobilityErrorCode } from '@fabric/core/mobility/mobility.errors';
import type { RebalanceErrorCode } from '@fabric/core/mobility/rebalance.errors';
import type { NetworkErrorCode } from '@fabric/core/network/network.errors';
import type { PlacementErrorCode } from '@fabric/core/placement/placement.errors';
import type { ReplicationErrorCode } from '@fabric/core/replication/replication.errors';
import type { PatternErrorCode } from '@fabric/core/shared/vm-pattern';
import type { TenancyErrorCode } from '@fabric/core/tenancy/tenancy.errors';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';

/** Every core error code, mapped once to the transport's code. Exhaustive by type. */
export const CORE_ERROR_CODES = {
  CLUSTER_NOT_FOUND: 'NOT_FOUND',
  HOST_NOT_FOUND: 'NOT_FOUND',
  TOKEN_NOT_FOUND: 'NOT_FOUND',
  DUPLICATE_CLUSTER_NAME: 'CONFLICT',
  DUPLICATE_HOST_NAME: 'CONFLICT',
  CLUSTER_HOST_LIMIT: 'UNPROCESSABLE_CONTENT',
  CLUSTER_NOT_EMPTY: 'CONFLICT',
  TOKEN_INVALID: 'UNAUTHORIZED',
  TOKEN_EXPIRED: 'UNAUTHORIZED',
  TOKEN_USED: 'UNAUTHORIZED',
  TOKEN_REVOKED: 'UNAUTHORIZED',
  TOKEN_NOT_ACTIVE: 'CONFLICT',
  CREDENTIAL_INVALID: 'UNAUTHORIZED',
  HOST_MISMATCH: 'FORBIDDEN',
  REPLAYED: 'CONFLICT',
  INVALID_STATE: 'CONFLICT',
  SIMULATION_ONLY: 'PRECONDITION_FAILED',
  TENANT_NOT_FOUND: 'NOT_FOUND',
  USER_NOT_FOUND: 'NOT_FOUND',
  DUPLICATE_TENANT_NAME: 'CONFLICT',
  INVALID_TENANT_NAME: 'BAD_REQUEST',
  DUPLICATE_EMAIL: 'CONFLICT',
  ROLE_NOT_ALLOWED: 'FORBIDDEN',
  TENANT_REQUIRED: 'BAD_REQUEST',
  TENANT_NOT_ALLOWED: 'BAD_REQUEST',
  VM_NOT_FOUND: 'NOT_FOUND',
  DUPLICATE_VM_NAME: 'CONFLICT',
  QUOTA_EXCEEDED: 'UNPROCESSABLE_CONTENT',
  INVALID_VM_STATE: 'CONFLICT',
  NO_HOST_FITS: 'UNPROCESSABLE_CONTENT',
  NO_CLUSTER: 'PRECONDITION_FAILED',
  TASK_NOT_FOUND: 'NOT_FOUND',
  // Ownership epochs (compute/ownership.ts): the agent protocol answers 409 STALE_EPOCH.
  STALE_EPOCH: 'CONFLICT',
  INVALID_HA_SETTINGS: 'BAD_REQUEST',
  HA_ADMISSION_REFUSED: 'PRECONDITION_FAILED',
  HA_EVENT_NOT_FOUND: 'NOT_FOUND',
  HOST_REJECTS_VM: 'CONFLICT',
  INVALID_REQUEST: 'BAD_REQUEST',
  NO_RATE_CARD: 'PRECONDITION_FAILED',
  DUPLICATE_EFFECTIVE_DATE: 'CONFLICT',
  CURRENCY_MISMATCH: 'BAD_REQUEST',
  // Two rollup rows for one VM-hour is a bug of ours, not the caller's.
  DUPLICATE_USAGE: 'INTERNAL_SERVER_ERROR',
  // A usage row across a period's edge or a card change is a repository bug, likewise.
  USAGE_SPAN: 'INTERNAL_SERVER_ERROR',
  INVALID_PERIOD: 'BAD_REQUEST',
  RATE_CARD_IN_PAST: 'BAD_REQUEST',
  BILL_TENANT_NOT_FOUND: 'NOT_FOUND',
  PERIOD_BEFORE_TENANT: 'BAD_REQUEST',
  PERIOD_NOT_STARTED: 'BAD_REQUEST',
  UNKNOWN_ADDRESS_CLASS: 'BAD_REQUEST',
  PERIOD_NOT_OVER: 'PRECONDITION_FAILED',
  PERIOD_CLOSED: 'CONFLICT',
  PERIOD_CLOSING: 'CONFLICT',
  PERIOD_OPEN: 'PRECONDITION_FAILED',
  PERIOD_NOT_PRICED: 'PRECONDITION_FAILED',
  INVOICE_NOT_FOUND: 'NOT_FOUND',
  INVOICE_VERSION_CONFLICT: 'CONFLICT',
  ADDRESS_CLASS_LIMIT: 'UNPROCESSABLE_CONTENT',
  DUPLICATE_ADDRESS_CLASS: 'CONFLICT',
  ADDRESS_CLASS_OVERLAP: 'CONFLICT',
  ADDRESS_CLASS_NOT_FOUND: 'NOT_FOUND',
  // Hyper-V Replica (issue 10): refusals change nothing; the agent's failures end a task, not a request.
  REPLICATION_NOT_FOUND: 'NOT_FOUND',
  REPLICATION_EXISTS: 'CONFLICT',
  REPLICA_TARGET_IS_PRIMARY: 'BAD_REQUEST',
  REPLICA_TARGET_NOT_AUTHORIZED: 'BAD_REQUEST',
  REPLICA_TARGET_NOT_FOUND: 'NOT_FOUND',
  REPLICA_NO_HOST_FITS: 'UNPROCESSABLE_CONTENT',
  VM_NOT_REPLICATED: 'BAD_REQUEST',
  VM_NOT_PLACED: 'CONFLICT',
  REPLICATION_BUSY: 'CONFLICT',
  REPLICATION_INVALID_STATE: 'CONFLICT',
  RECOVERY_POINT_NOT_FOUND: 'NOT_FOUND',
  REPLICA_AUTHORIZATION_NOT_FOUND: 'NOT_FOUND',
  REPLICA_AGENT_FAILED: 'INTERNAL_SERVER_ERROR',
  REPLICA_CHECKSUM_MISMATCH: 'INTERNAL_SERVER_ERROR',
  REPLICA_PRIMARY_RUNNING: 'CONFLICT',
  ADDRESS_CLASS_IN_USE: 'CONFLICT',
  // The agent endpoint answers 400: the batch names a class the API does not know.
  UNKNOWN_METERED_ACL: 'BAD_REQUEST',
  // The agent endpoint answers 422 with a verdict per sample: the batch holds samples that cannot be true.
  IMPLAUSIBLE_SAMPLES: 'UNPROCESSABLE_CONTENT',
  EXPORT_FORBIDDEN: 'FORBIDDEN',
  EXPORT_INVALID_INPUT: 'BAD_REQUEST',
  EXPORT_NOT_FOUND: 'NOT_FOUND',
  TASK_ALREADY_ACTIVE: 'CONFLICT',
  // A long operation that ended failed; the message and its task (Tasks panel) say at which step and why.
  TASK_FAILED: 'UNPROCESSABLE_CONTENT',
  // Tenant networks (issue 13): each refusal names the rule it breaks; nothing was written.
  SUBNET_OVERLAP: 'CONFLICT',
  CA_OUTSIDE_SUBNET: 'BAD_REQUEST',
  CA_RESERVED: 'BAD_REQUEST',
  CA_IN_USE: 'CONFLICT',
  VLAN_OUT_OF_RANGE: 'BAD_REQUEST',
  VSID_OUT_OF_RANGE: 'BAD_REQUEST',
  VSID_IN_USE: 'CONFLICT',
  VSID_ALLOCATED_BY_FABRIC: 'BAD_REQUEST',
  POOL_EXHAUSTED: 'UNPROCESSABLE_CONTENT',
  PVLAN_MODE_REQUIRED: 'BAD_REQUEST',
  PVLAN_PRIMARY_REQUIRED: 'BAD_REQUEST',
  PVLAN_SECONDARY_REQUIRED: 'BAD_REQUEST',
  INVALID_PREFIX: 'BAD_REQUEST',
  INVALID_ADDRESS: 'BAD_REQUEST',
  TRUNK_NATIVE_NOT_ALLOWED: 'BAD_REQUEST',
  PORT_POLICY_CONFLICT: 'BAD_REQUEST',
  MIRROR_DESTINATION_UNKNOWN: 'BAD_REQUEST',
  QOS_MINIMUM_ABOVE_MAXIMUM: 'BAD_REQUEST',
  VM_NETWORK_NOT_FOUND: 'NOT_FOUND',
  SUBNET_NOT_FOUND: 'NOT_FOUND',
  LOGICAL_NETWORK_NOT_FOUND: 'NOT_FOUND',
  EXTENSION_VETO: 'FORBIDDEN',
  NETWORK_IN_USE: 'CONFLICT',
  MIGRATION_VM_NOT_FOUND: 'NOT_FOUND',
  MIGRATION_TARGET_NOT_FOUND: 'NOT_FOUND',
  MIGRATION_TARGET_REFUSED: 'CONFLICT',
  MIGRATION_SAME_HOST: 'BAD_REQUEST',
  MIGRATION_NO_TARGET: 'UNPROCESSABLE_CONTENT',
  MIGRATION_ALREADY_ACTIVE: 'CONFLICT',
  MIGRATION_VM_STATE: 'CONFLICT',
  MIGRATION_WOULD_NOT_CONVERGE: 'UNPROCESSABLE_CONTENT',
  MIGRATION_NOT_CANCELLABLE: 'CONFLICT',
  MIGRATION_NOT_FOUND: 'NOT_FOUND',
  MIGRATION_CANCELLED: 'CONFLICT',
  MIGRATION_HOST_FAILED: 'INTERNAL_SERVER_ERROR',
  HOST_NOT_IN_MAINTENANCE: 'CONFLICT',
  // Pattern forms (`web*`): acting on no match is the caller's NOT_FOUND; too many names the cap.
  PATTERN_NO_MATCH: 'NOT_FOUND',
  PATTERN_TOO_MANY: 'UNPROCESSABLE_CONTENT',
  REBALANCE_CLUSTER_NOT_FOUND: 'NOT_FOUND',
  REBALANCE_RECOMMENDATION_NOT_FOUND: 'NOT_FOUND',
  REBALANCE_RECOMMENDATION_REFUSED: 'CONFLICT',
  REBALANCE_ROUND_BUSY: 'CONFLICT',
  STORAGE_POOL_NOT_FOUND: 'NOT_FOUND',
  STORAGE_DISK_NOT_FOUND: 'NOT_FOUND',
  STORAGE_SAME_POOL: 'BAD_REQUEST',
  STORAGE_NO_SPACE: 'UNPROCESSABLE_CONTENT',
  STORAGE_HOST_FAILED: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<
  | FabricErrorCode
  | MobilityErrorCode
  | RebalanceErrorCode
  | TenancyErrorCode
  | ComputeErrorCode
  | PlacementErrorCode
  | ChargebackErrorCode
  | InvoiceErrorCode
  | ExportErrorCode
  | MeteringErrorCode
  | ReplicationErrorCode
  | PatternErrorCode
  | NetworkErrorCode
  | JobErrorCode,
  TRPC_ERROR_CODE_KEY
>;

export type CoreErrorCode = keyof typeof CORE_ERROR_CODES;

export const HTTP_STATUS: Partial<Record<TRPC_ERROR_CODE_KEY, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  PRECONDITION_FAILED: 412,
  INTERNAL_SERVER_ERROR: 500,
};

export function isCoreErrorCode(code: string): code is CoreErrorCode {
  return code in CORE_ERROR_CODES;
}

/**
 * Postgres's SQLSTATEs for a value it cannot store, convert or compare: class
 * 22 (data exception: 22001 string too long, 22003 numeric out of range,
 * 22007/22008 bad or overflowing datetime, 22021 NUL or bad byte sequence,
 * 22P02 bad text representation, 22P05 untranslatable character, 22025 bad
 * LIKE escape …) and 54000 (program limit exceeded, e.g. an index row too
 * big). Each comes from the caller's value reaching the database unvalidated.
 */
function isDataExceptionState(state: string): boolean {
  return state.startsWith('22') || state === '54000';
}

/** Prisma's own codes for a value that does not fit its column (P2000 too long, P2020 out of range, P2033 not 64-bit…). */
const PRISMA_VALUE_CODES = new Set(['P2000', 'P2006', 'P2007', 'P2019', 'P2020', 'P2023', 'P2033']);

/**
 * The SQLSTATE or Prisma code when `error` (or its causes) is the database
 * refusing a value, else null. This is the last-resort net: input schemas
 * (packages/core/src/shared/text.schema.ts) should have refused the value, so
 * the caller gets a 400 rather than a 500 that agents would retry for ever,
 * and we log it as a missing validation.
 */
export function databaseValueErrorCode(error: unknown): string | null {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const record = current as Record<string, unknown>;
    // pg's DatabaseError carries `code` and `severity`; Prisma's adapter keeps it as `originalCode`.
    if (typeof record.originalCode === 'string' && isDataExceptionState(record.originalCode))
      return record.originalCode;
    if (typeof record.code === 'string') {
      if (typeof record.severity === 'string' && isDataExceptionState(record.code)) return record.code;
      if (PRISMA_VALUE_CODES.has(record.code)) return record.code;
    }
    if (record.name === 'PrismaClientValidationError') return 'PrismaClientValidationError';
    const meta = record.meta as Record<string, unknown> | undefined;
    current = meta?.driverAdapterError ?? record.cause;
  }
  return null;
}
