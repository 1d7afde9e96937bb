import { cn } from '@/lib/cn';

/** The Fabric mark: woven threads, drawn inline so nothing loads at build time. */
export function FabricMark({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" className={cn('size-6', className)} aria-hidden="true">
      <rect width="24" height="24" rx="6" className="fill-accent" />
      <path d="M6 9h12M6 15h12" stroke="white" strokeWidth="2" strokeLinecap="round" opacity="0.95" />
      <path d="M9 6v12M15 6v12" stroke="white" strokeWidth="2" strokeLinecap="round" opacity="0.55" />
    </svg>
  );
}

export function FabricWordmark({ className }: { className?: string }) {
  return (
    <span className={cn('inline-flex items-center gap-2', className)}>
      <FabricMark />
      <span className="text-[14px] font-semibold tracking-[-0.01em] text-fg">Fabric</span>
    </span>
  );
}
