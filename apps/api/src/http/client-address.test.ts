import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './request';

function request(peer: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

const consoleProxy = new Set(['127.0.0.1', '::1']);

describe('clientAddress', () => {
  it.each([
    // A caller that is not a trusted proxy is its own address, whatever it claims.
    ['198.51.100.9', '203.0.113.7', consoleProxy, '198.51.100.9'],
    ['198.51.100.9', undefined, consoleProxy, '198.51.100.9'],
    ['::ffff:198.51.100.9', '203.0.113.7', consoleProxy, '198.51.100.9'],
    // Through the console's proxy: the address it forwards.
    ['127.0.0.1', '203.0.113.7', consoleProxy, '203.0.113.7'],
    ['::ffff:127.0.0.1', '203.0.113.7', consoleProxy, '203.0.113.7'],
    ['127.0.0.1', '::ffff:203.0.113.7', consoleProxy, '203.0.113.7'],
    // Read from the right: a client's own value in front of the proxy's is not believed.
    ['127.0.0.1', '6.6.6.6, 203.0.113.7', consoleProxy, '203.0.113.7'],
    // Through two trusted proxies: the first untrusted hop from the right.
    ['127.0.0.1', '203.0.113.7, 10.0.0.2', new Set(['127.0.0.1', '10.0.0.2']), '203.0.113.7'],
    // Nothing forwarded, or something that is not an address: the proxy itself.
    ['127.0.0.1', undefined, consoleProxy, '127.0.0.1'],
    ['127.0.0.1', 'not-an-address', consoleProxy, '127.0.0.1'],
    // No proxy trusted at all (the default): the header is never read.
    ['127.0.0.1', '203.0.113.7', undefined, '127.0.0.1'],
  ])('peer %s, X-Forwarded-For %j → %s', (peer, forwardedFor, trusted, client) => {
    expect(clientAddress(request(peer, forwardedFor), trusted)).toBe(client);
  });
});
