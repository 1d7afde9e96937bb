import type { NextConfig } from 'next';

// The API server is a separate process; the browser stays same-origin through
// this rewrite so the auth cookie and SSE subscriptions need no CORS.
const apiUrl = process.env.FABRIC_API_URL ?? 'http://127.0.0.1:4000';

const nextConfig: NextConfig = {
  transpilePackages: ['@fabric/core'],
  typedRoutes: false,
  poweredByHeader: false,
  async rewrites() {
    return [{ source: '/api/:path*', destination: `${apiUrl}/api/:path*` }];
  },
};

export default nextConfig;
