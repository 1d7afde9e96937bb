'use client';

import { Bot, Cog, User } from 'lucide-react';
import { RelativeTime } from '@/components/ui/relative-time';
import type { RouterOutputs } from '@/trpc/types';
import { AuditResultBadge } from './audit-result';

type AuditRow = RouterOutputs['hosts']['get']['events'][number];

export function ActorIcon({ type }: { type: string }) {
  const Icon = type === 'agent' ? Bot : type === 'system' ? Cog : User;
  return <Icon className="size-3.5 shrink-0 text-subtle" aria-label={type} />;
}

/** A compact timeline of audit rows (newest first), for detail pages. */
export function EventList({ events }: { events: AuditRow[] }) {
  return (
    <ol className="divide-y divide-border">
      {events.map((event) => (
        <li key={event.id} className="flex items-start gap-3 px-4 py-2.5">
          <ActorIcon type={event.actorType} />
          <div className="min-w-0 flex-1">
            <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
              <span className="font-mono text-[12px] text-fg">{event.action}</span>
              {event.result !== 'success' ? <AuditResultBadge result={event.result} /> : null}
            </div>
            {event.message ? <p className="mt-0.5 text-[12.5px] text-muted">{event.message}</p> : null}
            <p className="mt-0.5 text-[11.5px] text-subtle">by {event.actorLabel}</p>
          </div>
          <RelativeTime value={event.at} className="shrink-0 text-[12px] text-muted tabular" />
        </li>
      ))}
    </ol>
  );
}
