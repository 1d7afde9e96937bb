import type { NextConfig } from 'next';

// /api/* is proxied to the API server by src/proxy.ts (at run time).
const nextConfig: NextConfig = {
  transpilePackages: ['@fabric/core'],
  typedRoutes: false,
  poweredByHeader: false,
};

export default nextConfig;
