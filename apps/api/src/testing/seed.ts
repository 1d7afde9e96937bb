import { DEMO_USERS, seedDemo } from '../../../../prisma/seed';
import type { RunningApi } from '../server';
import { ApiClient } from './api-client';

export { DEMO_USERS };

/** The demo tenants' creation in tests: before any month a test bills (metering-fixtures' HISTORY_START). */
export const TESTS_EPOCH = new Date('2020-01-01T00:00:00Z');

export type DemoLogin = 'admin' | 'finance' | 'blueAdmin' | 'blueUser' | 'yellowAdmin' | 'yellowUser';

const LOGINS: Record<DemoLogin, (typeof DEMO_USERS)[number]['email']> = {
  admin: 'admin@fabric.local',
  finance: 'finance@fabric.local',
  blueAdmin: 'alice@blue.example',
  blueUser: 'bob@blue.example',
  yellowAdmin: 'yara@yellow.example',
  yellowUser: 'yuri@yellow.example',
};

export function demoUser(login: DemoLogin) {
  const user = DEMO_USERS.find((u) => u.email === LOGINS[login]);
  if (!user) throw new Error(`no demo user ${login}`);
  return user;
}

/** Seeds the demo (tenants, users, clusters) and signs every demo user in. */
export async function seedAndSignIn(
  api: RunningApi,
  options: { billingHistory?: boolean } = {},
): Promise<Record<DemoLogin, ApiClient>> {
  // Tests make their own usage and rate cards unless they ask for the demo's history.
  // Tests travel back to months of 2026 to bill them: the demo tenants existed then.
  await seedDemo(api.services, { billingHistory: options.billingHistory ?? false, tenantsSince: TESTS_EPOCH });
  const entries = await Promise.all(
    (Object.keys(LOGINS) as DemoLogin[]).map(async (login) => {
      const user = demoUser(login);
      return [login, await ApiClient.signIn(api.url, user.email, user.password)] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<DemoLogin, ApiClient>;
}
