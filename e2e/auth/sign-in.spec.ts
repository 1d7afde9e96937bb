import { expect, test } from '@playwright/test';
import { signIn } from '../fixtures/session';

test('a wrong password is refused and the user stays on the login page', async ({ page }) => {
  await signIn(page, 'admin@fabric.local', 'definitely-not-it');
  await expect(page.getByText('Incorrect email or password.')).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  // The fields are what is wrong: they say so.
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  // No session was created: the console stays closed.
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/login/);
});

test('the provider admin signs in to the console and signs out', async ({ page }) => {
  await signIn(page, 'admin@fabric.local');
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('button', { name: /sign out/i }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/admin/hosts');
  await expect(page).toHaveURL(/\/login/);
});

test('with the control plane down the form says so, and does not mark the fields wrong', async ({ page }) => {
  await page.route('**/api/auth/sign-in/email', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', body: '{"message":"unavailable"}' }),
  );
  await signIn(page, 'admin@fabric.local', 'fabric-admin-1');
  await expect(page.getByText('The control plane is not answering. Try again in a moment.')).toBeVisible();
  await expect(page.getByLabel('Password')).not.toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Email')).not.toHaveAttribute('aria-invalid', 'true');
});
