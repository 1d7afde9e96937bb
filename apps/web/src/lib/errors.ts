import { TRPCClientError } from '@trpc/client';
import { HttpFailure } from './http-failure';

interface ErrorData {
  code?: unknown;
  httpStatus?: unknown;
  zodError?: unknown;
}

function dataOf(error: unknown): ErrorData | undefined {
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data;
    if (data && typeof data === 'object') return data as ErrorData;
  }
  return undefined;
}

/** The human message of a failed call; tRPC errors carry one from the API. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    const zod = fieldErrors(error);
    const first = Object.values(zod)[0];
    // A refused input's message names each field by its path ("memory.minimumMiB: …"), for API clients;
    // beside a form, the first field's own message reads better.
    if (first) return first;
    return error.message || 'The request failed.';
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

export function errorCode(error: unknown): string | undefined {
  const code = dataOf(error)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUnauthorized(error: unknown): boolean {
  return errorCode(error) === 'UNAUTHORIZED';
}

/** Field errors from `data.zodError` (flattened or tree form), keyed by field name. */
export function fieldErrors(error: unknown): Record<string, string> {
  const zod = dataOf(error)?.zodError;
  const out: Record<string, string> = {};
  if (!zod || typeof zod !== 'object') return out;
  const fields = (zod as { fieldErrors?: unknown }).fieldErrors;
  if (fields && typeof fields === 'object') {
    for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
      if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0];
    }
    return out;
  }
  const properties = (zod as { properties?: unknown }).properties;
  if (properties && typeof properties === 'object') {
    for (const [key, value] of Object.entries(properties as Record<string, unknown>)) {
      const errors = (value as { errors?: unknown }).errors;
      if (Array.isArray(errors) && typeof errors[0] === 'string') out[key] = errors[0];
    }
  }
  return out;
}

/**
 * What kind of failure this was, for a title that tells people what to do:
 * nothing answered (retry later, check the connection), the server failed
 * (a bug of ours, logged), the request was refused (the message says why),
 * or it was too large (ask for less).
 */
export type FailureKind = 'unreachable' | 'server' | 'refused' | 'too-large';

export function failureKind(error: unknown): FailureKind {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof HttpFailure) return cause.kind;
  if (error instanceof HttpFailure) return error.kind;
  const status = dataOf(error)?.httpStatus;
  if (typeof status === 'number') {
    if (status === 413 || status === 431) return 'too-large';
    return status >= 500 ? 'server' : 'refused';
  }
  // fetch's own failure (no answer at all) is a TypeError.
  if (cause instanceof TypeError || error instanceof TypeError) return 'unreachable';
  return 'server';
}

const TITLES: Record<FailureKind, string> = {
  unreachable: 'Could not reach the control plane',
  server: 'The control plane failed to answer',
  refused: 'The control plane refused the request',
  'too-large': 'The request is too large',
};

/** A page-level failure's title, by its kind (see failureKind). */
export function failureTitle(error: unknown): string {
  return TITLES[failureKind(error)];
}
