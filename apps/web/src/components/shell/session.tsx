'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { createContext, type ReactNode, useContext, useEffect } from 'react';
import { ErrorState } from '@/components/ui/error-state';
import { failureTitle, isUnauthorized } from '@/lib/errors';
import { homeFor } from '@/lib/routes';
import { useTRPC } from '@/trpc/client';
import type { Me, Role } from '@/trpc/types';

const SessionContext = createContext<Me | null>(null);

export function useSession(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useSession must be used inside <SessionGate>');
  return me;
}

export function useMeQuery() {
  const trpc = useTRPC();
  return useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
}

/**
 * Loads who is signed in and keeps each role in its own area: tenant roles
 * live in /portal, provider roles in /admin. The API enforces the same rules;
 * this only avoids showing pages that would answer FORBIDDEN.
 */
export function SessionGate({
  area,
  fallback,
  children,
}: {
  area: '/admin' | '/portal';
  fallback: ReactNode;
  children: ReactNode;
}) {
  const router = useRouter();
  const me = useMeQuery();
  const home = me.data ? homeFor(me.data.role) : null;

  useEffect(() => {
    if (home && home !== area) router.replace(home);
  }, [home, area, router]);

  if (me.isError && !isUnauthorized(me.error)) {
    return (
      <main className="flex min-h-dvh items-center justify-center">
        <ErrorState
          error={me.error}
          title={failureTitle(me.error)}
          onRetry={() => void me.refetch()}
          retrying={me.isFetching}
        />
      </main>
    );
  }
  if (!me.data || home !== area) return fallback;
  return <SessionContext value={me.data}>{children}</SessionContext>;
}

export function hasRole(me: Me, roles: readonly Role[]): boolean {
  return roles.includes(me.role);
}
