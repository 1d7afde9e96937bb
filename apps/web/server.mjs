// The console's HTTP server: Next.js's own request handler behind two things
// `next start` cannot do (a middleware never sees the connection):
//
// - X-Forwarded-For is written from the socket: the API believes the console
//   (FABRIC_TRUSTED_PROXIES) about who the client is, so a client must not
//   choose it. `next start` passed the client's own header on, which let it
//   pick its throttling address (sign-in, anonymous limits). The client's
//   header is overwritten, or appended to when the connection comes from a
//   proxy in front of the console (FABRIC_CONSOLE_TRUSTED_PROXIES).
// - x-middleware-rewrite, Next.js's note of where src/proxy.ts sent an /api/*
//   request (the API's internal address), is not sent to the browser.
import { createServer } from 'node:http';
import next from 'next';

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOSTNAME ?? '127.0.0.1';
const frontProxies = new Set(
  (process.env.FABRIC_CONSOLE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean),
);
const HIDDEN_RESPONSE_HEADERS = new Set(['x-middleware-rewrite']);

const plain = (address) => (/^::ffff:\d{1,3}(?:\.\d{1,3}){3}$/i.test(address) ? address.slice(7) : address);

/** The X-Forwarded-For the console passes on: the socket's address, after a trusted front proxy's chain. */
export function forwardedFor(socketAddress, clientHeader) {
  const address = plain(socketAddress ?? 'unknown');
  const header = Array.isArray(clientHeader) ? clientHeader.join(', ') : clientHeader;
  if (frontProxies.has(address) && header) return `${header}, ${address}`;
  return address;
}

const app = next({ dev: false, dir: import.meta.dirname, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

createServer((req, res) => {
  req.headers['x-forwarded-for'] = forwardedFor(req.socket.remoteAddress, req.headers['x-forwarded-for']);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) =>
    HIDDEN_RESPONSE_HEADERS.has(String(name).toLowerCase()) ? res : setHeader(name, value);
  handle(req, res);
}).listen(port, hostname, () => {
  console.log(`[web] console on http://${hostname}:${port}`);
});
