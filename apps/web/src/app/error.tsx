'use client';

import { ErrorState } from '@/components/ui/error-state';

/** Last-resort boundary: a render error shows a message and a retry instead of a blank page. */
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex min-h-dvh items-center justify-center">
      <ErrorState error={error} title="This page failed to render" onRetry={reset} />
    </main>
  );
}
