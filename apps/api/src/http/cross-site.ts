/**
 * CSRF at the edge of the cookie-authenticated API (/api/trpc, /api/exports).
 * The session cookie is SameSite=Lax, which still lets a page on a sibling
 * subdomain, or any top-level GET navigation, carry it: so a request that can
 * change something must say where it came from (Origin, which browsers send
 * on every non-GET request and scripts cannot forge), and that must be the
 * console; and nothing at all is served to a request the browser itself
 * labels as coming from anywhere but the console's own origin or the user
 * (Sec-Fetch-Site other than same-origin or none), reads included.
 * better-auth applies the same Origin rule to /api/auth (trustedOrigins).
 */

export type CrossSiteVerdict = { ok: true } | { ok: false; reason: string };

/** Methods that change nothing (RFC 9110 safe methods): tRPC queries, subscriptions and downloads. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origins allowed to send state-changing requests: the console's public URL(s), normalised. */
export function trustedOriginsOf(urls: readonly string[]): ReadonlySet<string> {
  return new Set(urls.map((url) => new URL(url).origin));
}

export function judgeCrossSite(request: {
  method: string;
  origin: string | undefined;
  secFetchSite: string | undefined;
  trustedOrigins: ReadonlySet<string>;
}): CrossSiteVerdict {
  // A browser says where a request comes from: only the console itself (same-origin, through its proxy)
  // or the user (none: the address bar, a bookmark) is served. same-site is a sibling subdomain's page,
  // which the SameSite=Lax cookie does not keep out; an unknown value is not trusted either.
  // Clients that send no Sec-Fetch-Site (scripts, agents, old browsers) meet the Origin rule below.
  const site = request.secFetchSite?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { ok: false, reason: `Refused a cross-site request (Sec-Fetch-Site: ${site.slice(0, 40)})` };
  }
  if (SAFE_METHODS.has(request.method.toUpperCase())) return { ok: true };
  if (!request.origin) {
    return {
      ok: false,
      reason:
        'Refused a possible cross-site request: a request that changes something must send an Origin header naming the console (FABRIC_PUBLIC_URL)',
    };
  }
  // Compared as sent: a browser sends exactly scheme://host[:port]; 'null' (a sandboxed frame, a file) is never trusted.
  if (!request.trustedOrigins.has(request.origin)) {
    return { ok: false, reason: `Refused a cross-site request from origin ${request.origin.slice(0, 200)}` };
  }
  return { ok: true };
}
