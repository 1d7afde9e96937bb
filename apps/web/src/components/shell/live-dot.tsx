import { cn } from '@/lib/cn';

/** The status dot of a live stream: pulsing while live, solid otherwise (`dot` is its colour class). */
export function LiveDot({ live, dot }: { live: boolean; dot: string }) {
  return (
    <span className="relative flex size-2" aria-hidden="true">
      {live ? (
        <span className={cn('absolute inline-flex size-full animate-ping rounded-full opacity-50', dot)} />
      ) : null}
      <span className={cn('relative inline-flex size-2 rounded-full', dot)} />
    </span>
  );
}
