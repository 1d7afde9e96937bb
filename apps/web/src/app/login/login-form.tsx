'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { FabricMark } from '@/components/brand';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { Field, Input } from '@/components/ui/input';
import { homeFor, nextFitsRole, safeNext } from '@/lib/routes';
import { useTRPCClient } from '@/trpc/client';

async function readMessage(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
      return body.message;
    }
  } catch {
    // Not JSON: fall back to the generic message below.
  }
  return null;
}

function failureMessage(status: number, message: string | null): string {
  if (status === 401) return 'Incorrect email or password.';
  if (status === 429) return message ?? 'Too many failed sign-in attempts. Try again in a few minutes.';
  if (status >= 500) return 'The control plane is not answering. Try again in a moment.';
  return message ?? 'Sign-in failed.';
}

export function LoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const queryClient = useQueryClient();
  const client = useTRPCClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  // The fields turn red only when they are what is wrong (empty, or refused), not when the API is down.
  const [fieldsWrong, setFieldsWrong] = useState(false);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      setFieldsWrong(true);
      return;
    }
    setPending(true);
    setError(null);
    setFieldsWrong(false);
    try {
      const response = await fetch('/api/auth/sign-in/email', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ email: email.trim(), password }),
      });
      if (!response.ok) {
        setError(failureMessage(response.status, await readMessage(response)));
        setFieldsWrong(response.status === 401 || response.status === 400);
        setPending(false);
        return;
      }
      // Whatever was cached belonged to the previous (or no) session.
      queryClient.clear();
      const me = await client.auth.me.query();
      const next = safeNext(params.get('next'));
      router.replace(next && nextFitsRole(next, me.role) ? next : homeFor(me.role));
    } catch {
      setError('The control plane is not answering. Try again in a moment.');
      setPending(false);
    }
  }

  return (
    <div className="relative w-full max-w-[360px]">
      <div className="mb-6 flex flex-col items-center text-center">
        <FabricMark className="size-9" />
        <h1 className="mt-4 text-[18px] font-semibold tracking-[-0.01em]">Sign in to Fabric</h1>
        <p className="mt-1 text-[13px] text-muted">Datacenter control plane</p>
      </div>
      {/* method="post": a submit before the page's script runs (slow first load, a chunk that failed to
          load) must not put the password in the address bar, history and logs as a GET query. */}
      <form
        method="post"
        onSubmit={onSubmit}
        noValidate
        className="flex flex-col gap-4 rounded-xl border border-border bg-surface p-6 shadow-sm"
        aria-describedby={error ? 'login-error' : undefined}
      >
        {error ? (
          <div id="login-error">
            <InlineError>{error}</InlineError>
          </div>
        ) : null}
        <Field label="Email" htmlFor="email">
          <Input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            inputMode="email"
            autoFocus
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={fieldsWrong ? true : undefined}
            className="h-9"
          />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={fieldsWrong ? true : undefined}
            className="h-9"
          />
        </Field>
        <Button type="submit" variant="primary" className="mt-1 h-9 w-full" loading={pending}>
          Sign in
        </Button>
      </form>
      <p className="mt-6 text-center text-[12px] text-subtle">Access is granted by your datacenter administrator.</p>
    </div>
  );
}
