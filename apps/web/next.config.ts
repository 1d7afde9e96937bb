import type { NextConfig } from 'next';

// /api/* is proxied to the API server by src/proxy.ts (at run time).
const nextConfig: NextConfig = {
  // The browser tests build into their own directory (FABRIC_WEB_DIST_DIR=.next-test, scripts/lib/stack.ts),
  // so running `npm test` never rebuilds the .next that a running `npm start` serves.
  distDir: process.env.FABRIC_WEB_DIST_DIR || '.next',
  transpilePackages: ['@fabric/core'],
  typedRoutes: false,
  poweredByHeader: false,
  // Keep the dev badge off the sidebar's live indicator.
  devIndicators: { position: 'bottom-right' },
};

export default nextConfig;
