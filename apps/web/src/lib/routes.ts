import type { Role } from '@/trpc/types';

/** Where a role lands after sign-in or on `/`. */
export function homeFor(role: Role): '/admin' | '/portal' {
  return role === 'tenant-admin' || role === 'tenant-user' ? '/portal' : '/admin';
}

/** Only same-origin paths are followed after sign-in (no open redirect). */
export function safeNext(next: string | null): string | null {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return null;
  return next;
}

/** A `next` path makes sense only inside the area the role may use. */
export function nextFitsRole(next: string, role: Role): boolean {
  const home = homeFor(role);
  return next === home || next.startsWith(`${home}/`) || next.startsWith(`${home}?`);
}
