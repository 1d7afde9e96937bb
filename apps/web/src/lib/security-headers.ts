/**
 * The console's security headers (issue 9, class 8), set by src/proxy.ts on
 * every page and asset. The API sets its own on /api/*.
 *
 * Scripts: a fresh nonce per page and 'strict-dynamic' (Next.js puts the
 * nonce it finds in the request's CSP on its own scripts and inline flight
 * data, and the chunks they load are trusted through them), so no inline or
 * injected script runs. That needs pages rendered per request: the root
 * layout is dynamic. Styles: 'unsafe-inline', because React renders `style`
 * attributes (bar widths, chart colours) that a nonce cannot cover; a style
 * cannot run code. Development adds 'unsafe-eval', which React's dev build
 * uses to rebuild server error stacks; production never does.
 */
export function contentSecurityPolicy(nonce: string, development: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // tRPC calls and its event streams go to this origin (/api/* is proxied to the API).
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers for every console answer, pages and static assets alike. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  // Console URLs carry tenant and VM ids: they are not told to other sites.
  'referrer-policy': 'same-origin',
  // Older browsers that do not read frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
