'use client';

import { Lock } from 'lucide-react';
import type { ReactNode } from 'react';
import { EmptyState } from '@/components/ui/empty-state';
import type { Role } from '@/trpc/types';
import { useSession } from './session';

/** Shows the page only to roles the API will answer for; others get a clear note instead of errors. */
export function RequireRole({ roles, children }: { roles: readonly Role[]; children: ReactNode }) {
  const me = useSession();
  if (!roles.includes(me.role)) {
    return (
      <EmptyState
        icon={<Lock />}
        title="You don't have access to this page"
        description={`Your role does not include this part of the console. Ask ${me.tenant ? 'your tenant administrator' : 'a provider administrator'} if you need it.`}
        className="py-24"
      />
    );
  }
  return children;
}
