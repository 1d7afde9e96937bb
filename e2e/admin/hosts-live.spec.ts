import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { spawnAgent } from '../../apps/api/src/testing/agent-process';
import { apiAs, signIn } from '../fixtures/session';
import { E2E } from '../stack.config';

test('a host appears when its agent starts and turns suspect when the agent is killed, live', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/hosts');
  await expect(page.getByTestId('host-row').first()).toBeVisible();
  // Marks this page load: if the page reloaded, the marker would be gone.
  await page.evaluate(() => {
    (window as unknown as { __fabricMarker: number }).__fabricMarker = 42;
  });

  const admin = await apiAs('admin@fabric.local');
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  const production = clusters.find((c) => c.name === 'Production');
  const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: production?.id });
  const hostname = `e2e-${Date.now().toString(36)}`;
  const agent = spawnAgent({
    api: E2E.apiUrl,
    hostname,
    token,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-e2e-agent-')),
    profile: 'small-1x8-64g',
  });
  try {
    const row = page.getByTestId('host-row').filter({ hasText: hostname });
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row).toContainText('connected');

    await agent.kill('SIGKILL');
    // 3 missed heartbeats of 1 s: suspect within seconds, pushed to the page.
    await expect(row).toContainText('suspect', { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { __fabricMarker?: number }).__fabricMarker)).toBe(42);
  } finally {
    await agent.kill('SIGKILL');
  }
});
