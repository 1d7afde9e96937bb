import { describe, expect, it } from 'vitest';
import { judgeCrossSite, trustedOriginsOf } from './cross-site';

const trustedOrigins = trustedOriginsOf(['http://localhost:3000/', 'https://console.example.com/fabric']);
const judge = (method: string, origin?: string, secFetchSite?: string) =>
  judgeCrossSite({ method, origin, secFetchSite, trustedOrigins }).ok;

describe('judgeCrossSite', () => {
  it.each([
    ['POST from the console', 'POST', 'http://localhost:3000', undefined, true],
    ['POST from a second configured console', 'POST', 'https://console.example.com', 'same-origin', true],
    ['POST with no Origin', 'POST', undefined, undefined, false],
    ['POST from a foreign origin', 'POST', 'https://evil.example', undefined, false],
    ['POST from a sandboxed frame', 'POST', 'null', undefined, false],
    ['POST from a look-alike host', 'POST', 'http://localhost:3000.evil.example', undefined, false],
    ['POST from the console’s host on another scheme', 'POST', 'https://localhost:3000', undefined, false],
    ['POST from the console’s host on another port', 'POST', 'http://localhost:3001', undefined, false],
    ['DELETE with no Origin', 'DELETE', undefined, undefined, false],
    ['PUT and PATCH are state-changing too', 'patch', 'https://evil.example', undefined, false],
    [
      'POST the browser calls cross-site, even with a trusted Origin',
      'POST',
      'http://localhost:3000',
      'cross-site',
      false,
    ],
    ['GET without Origin (a query, a download link)', 'GET', undefined, undefined, true],
    ['GET the browser calls same-origin (the console, through its proxy)', 'GET', undefined, 'same-origin', true],
    [
      'GET the browser calls same-site (a sibling subdomain: the Lax cookie goes along)',
      'GET',
      undefined,
      'same-site',
      false,
    ],
    ['POST same-site, even with a trusted Origin', 'POST', 'http://localhost:3000', 'same-site', false],
    ['GET with a Sec-Fetch-Site value not in the standard', 'GET', undefined, 'same-planet', false],
    ['GET typed in the address bar', 'GET', undefined, 'none', true],
    [
      'GET the browser calls cross-site (an embedded export, a cross-site fetch)',
      'GET',
      undefined,
      'Cross-Site',
      false,
    ],
  ])('%s', (_what, method, origin, site, ok) => {
    expect(judge(method, origin, site)).toBe(ok);
  });

  it('says why, naming the origin it refused', () => {
    expect(
      judgeCrossSite({ method: 'POST', origin: 'https://evil.example', secFetchSite: undefined, trustedOrigins }),
    ).toEqual({ ok: false, reason: 'Refused a cross-site request from origin https://evil.example' });
  });
});
