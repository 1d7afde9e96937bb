import type { NextConfig } from 'next';

// /api/* is proxied to the API server by src/proxy.ts (at run time).
const nextConfig: NextConfig = {
  transpilePackages: ['@fabric/core'],
  typedRoutes: false,
  poweredByHeader: false,
  // Keep the dev badge off the sidebar's live indicator.
  devIndicators: { position: 'bottom-right' },
};

export default nextConfig;
