import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Providers } from '@/trpc/provider';
import './globals.css';

// Rendered per request: each page's scripts carry that request's CSP nonce (src/proxy.ts).
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: 'Fabric', template: '%s · Fabric' },
  description: 'Control plane for virtualization datacenters',
};

export const viewport: Viewport = {
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#f7f7f8' },
    { media: '(prefers-color-scheme: dark)', color: '#0b0b0d' },
  ],
  colorScheme: 'light dark',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-dvh">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
