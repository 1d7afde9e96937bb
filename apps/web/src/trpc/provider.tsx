'use client';

import '@/lib/zod-csp';
import type { AppRouter } from '@fabric/api/routers/root';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { type ReactNode, useState } from 'react';
import superjson from 'superjson';
import { errorCode, failureKind, isUnauthorized } from '@/lib/errors';
import { explainingFetch } from '@/lib/http-failure';
import { TRPCProvider } from './client';

// Node's HTTP server refuses request headers past 16 KiB (431): a batch's URL stays well below, and one
// query's input that alone would pass this goes in a body instead.
const MAX_URL_CHARS = 8_000;
const MAX_URL_INPUT_CHARS = 2_000;

/** The length of an input as the URL would carry it (superjson, then percent-encoding: about ×1.5 for JSON). */
function inputLength(input: unknown): number {
  if (input === undefined) return 0;
  return Math.ceil(JSON.stringify(superjson.serialize(input)).length * 1.5);
}

// Errors that a retry cannot fix: fail fast and show them.
const FINAL_CODES = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'CONFLICT']);

/** A lost session anywhere sends the user to sign in, then back to where they were. */
function redirectToLogin(): void {
  if (typeof window === 'undefined' || window.location.pathname.startsWith('/login')) return;
  const next = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        if (isUnauthorized(error)) redirectToLogin();
      },
    }),
    mutationCache: new MutationCache({
      onError: (error) => {
        if (isUnauthorized(error)) redirectToLogin();
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        retry: (failureCount, error) => {
          const code = errorCode(error);
          if (code && FINAL_CODES.has(code)) return false;
          // Too large or refused without a tRPC answer: the same request fails the same way again.
          const kind = failureKind(error);
          if (kind === 'too-large' || kind === 'refused') return false;
          return failureCount < 2;
        },
      },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          // Server-sent events through the same-origin /api rewrite.
          true: httpSubscriptionLink({ url: '/api/trpc', transformer: superjson }),
          // At most the API's batch cap (FABRIC_MAX_BATCH_SIZE, 16 by default) per request; more go in the next.
          false: splitLink({
            // A query whose input would make a long URL (a what-if of hundreds of VMs gave HTTP 431) goes
            // alone, as a POST body; the API allows it (allowMethodOverride). Others batch in GET URLs.
            condition: (op) => op.type === 'query' && inputLength(op.input) > MAX_URL_INPUT_CHARS,
            true: httpLink({
              url: '/api/trpc',
              transformer: superjson,
              methodOverride: 'POST',
              fetch: explainingFetch,
            }),
            false: httpBatchLink({
              url: '/api/trpc',
              transformer: superjson,
              maxItems: 16,
              maxURLLength: MAX_URL_CHARS,
              fetch: explainingFetch,
            }),
          }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
