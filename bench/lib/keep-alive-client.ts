// A lean JSON-over-HTTP client for load generators: node:http with a
// keep-alive agent, so thousands of requests a second reuse a pool of
// sockets instead of paying a TCP handshake each, and the generator (which
// shares the machine's cores with the API and Postgres) stays cheap.
import http from 'node:http';

export interface KeepAliveClient {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  close(): void;
}

export function keepAliveClient(baseUrl: string, maxSockets = 256): KeepAliveClient {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    post(path, body, headers = {}) {
      const payload = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}
