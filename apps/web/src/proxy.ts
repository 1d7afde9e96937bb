import { type NextRequest, NextResponse } from 'next/server';

// The API server is a separate process; the browser stays same-origin through
// this proxy, so the auth cookie and SSE subscriptions need no CORS. Read at
// run time (a next.config rewrite would freeze the address at build time).
export function proxy(request: NextRequest) {
  const api = process.env.FABRIC_API_URL ?? 'http://127.0.0.1:4000';
  return NextResponse.rewrite(new URL(`${request.nextUrl.pathname}${request.nextUrl.search}`, api));
}

export const config = { matcher: '/api/:path*' };
