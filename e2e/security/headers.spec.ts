import { expect, type Page, type Response, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

// The console's security headers (issue 9, class 8) in a real browser: every
// page carries a CSP with a fresh script nonce, frame-ancestors 'none',
// nosniff and a Referrer-Policy, and still renders and runs its scripts with
// no CSP violation; and the console's own writes pass the API's cross-site
// check (class 7), since the browser sends the console's Origin.

interface Violation {
  directive: string;
  blocked: string;
}

/** Records CSP violations the page reports, from before its first script. */
async function watchViolations(page: Page): Promise<() => Promise<{ violations: Violation[]; console: string[] }>> {
  await page.addInitScript(() => {
    const seen: { directive: string; blocked: string }[] = [];
    (window as unknown as { __cspViolations: typeof seen }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push({ directive: event.violatedDirective, blocked: event.blockedURI });
    });
  });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) consoleErrors.push(message.text());
  });
  return async () => ({
    violations: await page.evaluate(
      () => (window as unknown as { __cspViolations?: Violation[] }).__cspViolations ?? [],
    ),
    console: consoleErrors,
  });
}

function expectConsoleHeaders(response: Response | null): string {
  expect(response, 'the page answered').not.toBeNull();
  const headers = response?.headers() ?? {};
  const csp = headers['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(csp).toContain("object-src 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  expect(headers['x-frame-options']).toBe('DENY');
  return /'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
}

test('the login page carries the headers, a new nonce each time, and signs in under its CSP', async ({ page }) => {
  const report = await watchViolations(page);
  const first = expectConsoleHeaders(await page.goto('/login'));
  const second = expectConsoleHeaders(await page.reload());
  expect(first).not.toBe(second);
  // Static assets too.
  const script = await page.evaluate(() => document.querySelector('script[src]')?.getAttribute('src') ?? '');
  expect(script).not.toBe('');
  const asset = await page.request.get(script);
  expect(asset.headers()['x-content-type-options']).toBe('nosniff');

  // Signing in is the page's own script (a fetch, then a client navigation).
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  expect(await report()).toEqual({ violations: [], console: [] });
});

test('console pages render their live data under the CSP, with no violation', async ({ page }) => {
  const report = await watchViolations(page);
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  for (const [path, heading] of [
    ['/admin/hosts', 'Hosts'],
    ['/admin/chargeback', 'Chargeback'],
    ['/admin/audit', 'Audit log'],
  ] as const) {
    expectConsoleHeaders(await page.goto(path));
    await expect(page.getByRole('heading', { name: heading, exact: true }).first()).toBeVisible();
  }
  // Data that only the client's tRPC calls can have put there: the demo's hosts.
  await page.goto('/admin/hosts');
  await expect(page.getByText(/hv-prod-\d+/).first()).toBeVisible();
  expect(await report()).toEqual({ violations: [], console: [] });
});

test('a tenant admin’s portal works under the CSP, and a write from the console passes the API’s origin check', async ({
  page,
}) => {
  const report = await watchViolations(page);
  await signIn(page, 'alice@blue.example');
  await expect(page).toHaveURL(/\/portal/);
  expectConsoleHeaders(await page.goto('/portal/vms'));
  await expect(page.getByRole('region', { name: 'Quota and usage' })).toBeVisible();

  // The browser sends the console's Origin itself; through the console's /api proxy the API takes it.
  const name = `e2e-csp-${Date.now().toString(36)}`;
  const answer = await page.evaluate(async (vmName) => {
    const response = await fetch('/api/trpc/vms.create', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        json: {
          name: vmName,
          vcpus: 1,
          memory: { mode: 'static', sizeMiB: 1024 },
          disks: [{ sizeGiB: 10 }],
          startAfterCreate: false,
        },
      }),
    });
    return { status: response.status, cacheControl: response.headers.get('cache-control') };
  }, name);
  expect(answer).toEqual({ status: 200, cacheControl: 'no-store' });
  await page.goto('/portal/vms');
  await expect(page.getByText(name)).toBeVisible();
  expect(await report()).toEqual({ violations: [], console: [] });
});
