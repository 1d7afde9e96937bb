import { ShieldAlert, ShieldCheck } from 'lucide-react';
import Link from 'next/link';
import { Badge, type Tone } from '@/components/ui/badge';
import { cn } from '@/lib/cn';
import type { RouterOutputs } from '@/trpc/types';

export type NPlusOne = RouterOutputs['placement']['nPlusOne'];

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * The N+1 verdict in words and a tone: green when any host can be lost, amber
 * when one host's loss strands HA VMs, red when the loss of several would.
 */
export function nPlusOneVerdict(health: NPlusOne): { tone: Tone; text: string } {
  if (health.perHost.length === 0) return { tone: 'neutral', text: 'No connected hosts to check' };
  if (health.ok) return { tone: 'green', text: 'Can lose any host' };
  const failing = health.perHost.filter((h) => !h.ok).length;
  const n = health.worst.unplaced.length;
  const others = failing > 1 ? ` (and ${plural(failing - 1, 'other host')})` : '';
  return {
    tone: failing > 1 ? 'red' : 'amber',
    text: `Cannot lose ${health.worst.hostName}: ${plural(n, 'HA VM')} would not restart${others}`,
  };
}

/** One line for a cluster card: the verdict, linking to the cluster's what-if page. */
export function NPlusOneLine({ health, className }: { health: NPlusOne; className?: string }) {
  const { tone, text } = nPlusOneVerdict(health);
  const Icon = tone === 'green' || tone === 'neutral' ? ShieldCheck : ShieldAlert;
  return (
    <Link
      href={`/admin/clusters/${health.clusterId}/what-if`}
      data-testid="n-plus-one-status"
      className={cn(
        'group flex items-start gap-2 rounded-md px-2 py-1.5 text-[12px] transition-colors hover:bg-surface-hover',
        'focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-ring',
        className,
      )}
      title="N+1: can the cluster lose any one host and restart all its HA VMs elsewhere? Open the what-if page."
    >
      <Icon
        aria-hidden="true"
        className={cn(
          'mt-px size-3.5 shrink-0',
          tone === 'green' && 'text-emerald-600 dark:text-emerald-400',
          tone === 'amber' && 'text-amber-600 dark:text-amber-300',
          tone === 'red' && 'text-red-600 dark:text-red-400',
          tone === 'neutral' && 'text-subtle',
        )}
      />
      <span className="min-w-0 flex-1">
        <span className="text-muted">N+1 · </span>
        <span className="font-medium text-fg group-hover:underline">{text}</span>
      </span>
    </Link>
  );
}

export function NPlusOneBadge({ health }: { health: NPlusOne }) {
  const { tone, text } = nPlusOneVerdict(health);
  return (
    <Badge tone={tone} dot>
      {text}
    </Badge>
  );
}
