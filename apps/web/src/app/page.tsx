'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { ShellSkeleton } from '@/components/shell/app-shell';
import { useMeQuery } from '@/components/shell/session';
import { ErrorState } from '@/components/ui/error-state';
import { failureTitle, isUnauthorized } from '@/lib/errors';
import { homeFor } from '@/lib/routes';

/** `/` sends each role to its own area; no session goes to sign-in (via the query cache). */
export default function IndexPage() {
  const router = useRouter();
  const me = useMeQuery();
  const role = me.data?.role;

  useEffect(() => {
    if (role) router.replace(homeFor(role));
  }, [role, router]);

  if (me.isError && !isUnauthorized(me.error)) {
    return (
      <main className="flex min-h-dvh items-center justify-center">
        <ErrorState error={me.error} title={failureTitle(me.error)} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  return <ShellSkeleton />;
}
