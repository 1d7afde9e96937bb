'use client';

import { ROLE_LABELS } from '@fabric/core/shared/roles';
import { useQueryClient } from '@tanstack/react-query';
import {
  Boxes,
  Building2,
  ChartLine,
  FileText,
  LayoutDashboard,
  ListChecks,
  LogOut,
  type LucideIcon,
  MonitorCog,
  MoveRight,
  Network,
  Receipt,
  Repeat,
  ScrollText,
  Server,
  Users,
} from 'lucide-react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { type ReactNode, useState } from 'react';
import { FabricWordmark } from '@/components/brand';
import { Button } from '@/components/ui/button';
import { Skeleton } from '@/components/ui/skeleton';
import { LiveVmsProvider, useLiveVmsStatus } from '@/components/vms/live-vms';
import { cn } from '@/lib/cn';
import type { Role } from '@/trpc/types';
import { LiveHostsProvider, useLiveStatus } from './live';
import { LiveDot } from './live-dot';
import { SessionGate, useSession } from './session';

interface NavItem {
  href: string;
  label: string;
  icon: LucideIcon;
  roles: readonly Role[];
  exact?: boolean;
}

const ADMIN_NAV: NavItem[] = [
  { href: '/admin', label: 'Overview', icon: LayoutDashboard, roles: ['provider-admin', 'finance'], exact: true },
  { href: '/admin/hosts', label: 'Hosts', icon: Server, roles: ['provider-admin'] },
  { href: '/admin/vms', label: 'Virtual machines', icon: MonitorCog, roles: ['provider-admin'] },
  { href: '/admin/clusters', label: 'Clusters', icon: Boxes, roles: ['provider-admin'] },
  { href: '/admin/networks', label: 'Networks', icon: Network, roles: ['provider-admin'] },
  { href: '/admin/tenants', label: 'Tenants', icon: Building2, roles: ['provider-admin'] },
  { href: '/admin/users', label: 'Users', icon: Users, roles: ['provider-admin'] },
  { href: '/admin/usage', label: 'Usage', icon: ChartLine, roles: ['provider-admin', 'finance'] },
  { href: '/admin/replication', label: 'Replication', icon: Repeat, roles: ['provider-admin', 'finance'] },
  { href: '/admin/ha', label: 'High availability', icon: Repeat, roles: ['provider-admin'] },
  { href: '/admin/migrations', label: 'Migrations', icon: MoveRight, roles: ['provider-admin'] },
  { href: '/admin/chargeback', label: 'Chargeback', icon: Receipt, roles: ['provider-admin', 'finance'] },
  { href: '/admin/invoices', label: 'Invoices', icon: FileText, roles: ['provider-admin', 'finance'] },
  { href: '/admin/tasks', label: 'Tasks', icon: ListChecks, roles: ['provider-admin', 'finance'] },
  { href: '/admin/audit', label: 'Audit log', icon: ScrollText, roles: ['provider-admin', 'finance'] },
];

const PORTAL_NAV: NavItem[] = [
  { href: '/portal', label: 'Overview', icon: LayoutDashboard, roles: ['tenant-admin', 'tenant-user'], exact: true },
  { href: '/portal/vms', label: 'Virtual machines', icon: MonitorCog, roles: ['tenant-admin', 'tenant-user'] },
  { href: '/portal/networks', label: 'Networks', icon: Network, roles: ['tenant-admin', 'tenant-user'] },
  { href: '/portal/replication', label: 'Replication', icon: Repeat, roles: ['tenant-admin', 'tenant-user'] },
  { href: '/portal/usage', label: 'Usage', icon: ChartLine, roles: ['tenant-admin', 'tenant-user'] },
  { href: '/portal/bill', label: 'Bill', icon: Receipt, roles: ['tenant-admin'] },
  { href: '/portal/invoices', label: 'Invoices', icon: FileText, roles: ['tenant-admin'] },
  { href: '/portal/tasks', label: 'Tasks', icon: ListChecks, roles: ['tenant-admin', 'tenant-user'] },
  { href: '/portal/activity', label: 'Activity', icon: ScrollText, roles: ['tenant-admin'] },
];

// hosts.onChange answers provider admins only; finance sees totals refreshed by polling instead.
const LIVE_ROLES: readonly Role[] = ['provider-admin'];
// vms.onChange answers everyone who may see VMs, scoped to their tenant by the server.
const LIVE_VM_ROLES: readonly Role[] = ['provider-admin', 'tenant-admin', 'tenant-user'];

export function AppShell({ area, children }: { area: '/admin' | '/portal'; children: ReactNode }) {
  return (
    <SessionGate area={area} fallback={<ShellSkeleton />}>
      <ShellFrame area={area}>{children}</ShellFrame>
    </SessionGate>
  );
}

function ShellFrame({ area, children }: { area: '/admin' | '/portal'; children: ReactNode }) {
  const me = useSession();
  const items = (area === '/admin' ? ADMIN_NAV : PORTAL_NAV).filter((item) => item.roles.includes(me.role));
  return (
    <LiveHostsProvider enabled={LIVE_ROLES.includes(me.role)}>
      <LiveVmsProvider enabled={LIVE_VM_ROLES.includes(me.role)}>
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2 focus:shadow"
        >
          Skip to content
        </a>
        <div className="flex min-h-dvh">
          <aside className="sticky top-0 hidden h-dvh w-56 shrink-0 flex-col border-r border-border bg-surface md:flex">
            <div className="flex h-12 items-center border-b border-border px-4">
              <Link href={area} className="rounded-md" aria-label="Fabric home">
                <FabricWordmark />
              </Link>
            </div>
            <div className="px-4 pt-4 pb-1.5 text-[11px] font-medium tracking-wide text-subtle uppercase">
              {area === '/admin' ? 'Provider console' : 'Tenant portal'}
            </div>
            <Nav items={items} />
            <LiveIndicator />
          </aside>
          <div className="flex min-w-0 flex-1 flex-col">
            <TopBar items={items} />
            <main
              id="main"
              tabIndex={-1}
              className="mx-auto w-full max-w-[1400px] flex-1 px-4 py-6 outline-none md:px-8"
            >
              {children}
            </main>
          </div>
        </div>
      </LiveVmsProvider>
    </LiveHostsProvider>
  );
}

function isActive(pathname: string, item: NavItem): boolean {
  return item.exact ? pathname === item.href : pathname === item.href || pathname.startsWith(`${item.href}/`);
}

function Nav({ items, horizontal = false }: { items: NavItem[]; horizontal?: boolean }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className={horizontal ? 'flex gap-1 overflow-x-auto' : 'flex flex-col gap-0.5 px-2'}>
      {items.map((item) => {
        const active = isActive(pathname, item);
        const Icon = item.icon;
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? 'page' : undefined}
            className={cn(
              'flex h-8 items-center gap-2.5 rounded-md px-2.5 text-[13px] font-medium whitespace-nowrap transition-colors',
              active ? 'bg-accent-soft text-accent' : 'text-muted hover:bg-surface-hover hover:text-fg',
            )}
          >
            <Icon className="size-4 shrink-0" aria-hidden="true" />
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}

const LIVE_LABELS = {
  live: { text: 'Live', dot: 'bg-emerald-500', help: 'Receiving updates as they happen' },
  connecting: { text: 'Connecting', dot: 'bg-amber-500', help: 'Opening the live update stream' },
  reconnecting: { text: 'Reconnecting', dot: 'bg-amber-500', help: 'The live update stream dropped; retrying' },
  offline: { text: 'Offline', dot: 'bg-red-500', help: 'Live updates are off; data may be stale' },
} as const;

export function LiveIndicator() {
  const hosts = useLiveStatus();
  const vmStatus = useLiveVmsStatus();
  // Tenants have no host stream; their indicator follows the VM stream.
  const status = hosts.status === 'off' ? vmStatus : hosts.status;
  const reconnect = hosts.status === 'off' ? () => window.location.reload() : hosts.reconnect;
  if (status === 'off') return null;
  const label = LIVE_LABELS[status];
  return (
    <div className="mt-auto flex items-center justify-between gap-2 border-t border-border px-4 py-3 text-[12px]">
      <span role="status" title={label.help} className="inline-flex items-center gap-2 text-muted">
        <LiveDot live={status === 'live'} dot={label.dot} />
        <span>
          <span className="sr-only">Live updates: </span>
          {label.text}
        </span>
      </span>
      {status === 'offline' ? (
        <button type="button" onClick={reconnect} className="rounded px-1 text-accent hover:underline">
          Retry
        </button>
      ) : null}
    </div>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return `${first}${last}`.toUpperCase();
}

function TopBar({ items }: { items: NavItem[] }) {
  const me = useSession();
  const queryClient = useQueryClient();
  const [signingOut, setSigningOut] = useState(false);

  async function signOut() {
    setSigningOut(true);
    try {
      await fetch('/api/auth/sign-out', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: '{}',
      });
    } finally {
      queryClient.clear();
      window.location.assign('/login');
    }
  }

  return (
    <header className="sticky top-0 z-20 border-b border-border bg-surface/85 backdrop-blur">
      <div className="flex h-12 items-center gap-4 px-4 md:px-8">
        <div className="min-w-0 flex-1 md:hidden">
          <Nav items={items} horizontal />
        </div>
        <div className="hidden min-w-0 flex-1 items-center gap-2 text-[12.5px] text-muted md:flex">
          {me.tenant ? (
            <>
              <Building2 className="size-3.5" aria-hidden="true" />
              <span className="truncate font-medium text-fg">{me.tenant.name}</span>
            </>
          ) : (
            <span>All tenants</span>
          )}
        </div>
        <div className="flex items-center gap-3">
          <div className="flex items-center gap-2.5">
            <span
              aria-hidden="true"
              className="flex size-7 items-center justify-center rounded-full bg-accent-soft text-[11px] font-semibold text-accent"
            >
              {initials(me.user.name)}
            </span>
            <div className="hidden flex-col leading-tight sm:flex">
              <span className="sr-only">Signed in as</span>
              <span className="text-[12.5px] font-medium text-fg" data-testid="user-name">
                {me.user.name}
              </span>
              <span className="text-[11.5px] text-muted" data-testid="user-role">
                {ROLE_LABELS[me.role]}
                {me.tenant ? ` · ${me.tenant.name}` : ''}
              </span>
            </div>
          </div>
          <div className="h-5 w-px bg-border" aria-hidden="true" />
          <Button variant="ghost" size="sm" onClick={() => void signOut()} loading={signingOut} icon={<LogOut />}>
            Sign out
          </Button>
        </div>
      </div>
    </header>
  );
}

export function ShellSkeleton() {
  return (
    <div className="flex min-h-dvh" role="status" aria-label="Loading the console">
      <div className="hidden w-56 shrink-0 border-r border-border bg-surface md:block">
        <div className="flex h-12 items-center border-b border-border px-4">
          <FabricWordmark />
        </div>
        <div className="flex flex-col gap-2 p-4">
          {[0, 1, 2, 3, 4].map((i) => (
            <Skeleton key={i} className="h-5 w-32" />
          ))}
        </div>
      </div>
      <div className="flex-1">
        <div className="h-12 border-b border-border bg-surface" />
        <div className="mx-auto max-w-[1400px] px-8 py-6">
          <Skeleton className="h-6 w-48" />
          <Skeleton className="mt-3 h-4 w-80" />
          <div className="mt-8 grid grid-cols-4 gap-4">
            {[0, 1, 2, 3].map((i) => (
              <Skeleton key={i} className="h-24" />
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}
