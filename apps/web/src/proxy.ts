import { type NextRequest, NextResponse } from 'next/server';
import { CONSOLE_HEADERS, contentSecurityPolicy } from '@/lib/security-headers';

// The API server is a separate process; the browser stays same-origin through
// this proxy, so the auth cookie and SSE subscriptions need no CORS. Read at
// run time (a next.config rewrite would freeze the address at build time).
// Everything else gets the console's security headers, pages a CSP with a
// fresh nonce (lib/security-headers.ts).
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  if (pathname.startsWith('/api/')) {
    const api = process.env.FABRIC_API_URL ?? 'http://127.0.0.1:4000';
    return NextResponse.rewrite(new URL(`${pathname}${search}`, api));
  }
  const csp = contentSecurityPolicy(btoa(crypto.randomUUID()), process.env.NODE_ENV === 'development');
  // Next.js reads the nonce from the request's CSP while it renders the page.
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', csp);
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) response.headers.set(name, value);
  return response;
}

// Every path: /api/* to the API, the rest (pages, assets, not-found) for its headers.
export const config = { matcher: '/:path*' };
