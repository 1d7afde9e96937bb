import { Agent as HttpAgent, request as httpRequest } from 'node:http';

/** One kept-alive socket pool for the agent's bulk transfers to peers (replica cycles, migration disk copies). */
const keepAlive = new HttpAgent({ keepAlive: true });

/**
 * PUTs `chunks` as one octet-stream body, each written to the socket as it is (node:http, kept alive):
 * fetch would copy the body again after a concat, two copies of every byte shipped, which a busy sender's
 * CPU profile showed as its main cost. Resolves with the peer's status and body whatever the status;
 * rejects when the peer cannot be reached or `signal` aborts (also after 60 s).
 */
export function putChunks(
  url: URL,
  credential: string,
  chunks: readonly Buffer[],
  signal: AbortSignal,
): Promise<{ status: number; body: Buffer }> {
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'PUT',
        agent: keepAlive,
        headers: {
          authorization: `Bearer ${credential}`,
          'content-type': 'application/octet-stream',
          'content-length': length,
        },
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.cork();
    for (const chunk of chunks) req.write(chunk);
    req.uncork();
    req.end();
  });
}
