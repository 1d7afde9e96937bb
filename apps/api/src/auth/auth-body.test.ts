import { describe, expect, it } from 'vitest';
import { readAuthBody, withoutSecrets } from './auth-body';

const json = (text: string) => Buffer.from(text, 'utf8');

describe('readAuthBody', () => {
  it('refuses a NUL or another control character anywhere in the body (Postgres answered 500)', () => {
    for (const raw of [
      '{"email":"n\\u0000ul@x.example","password":"abcdefghijk"}',
      '{"token":"a\\u0000b"}',
      '{"a":{"b":["\\u001b"]}}',
    ]) {
      expect(readAuthBody('application/json', Buffer.from(raw))).toMatchObject({ ok: false, status: 400 });
    }
    expect(readAuthBody('application/json', Buffer.from('{"name":"Zoë 株式会社"}'))).toMatchObject({ ok: true });
  });

  it.each([
    ['application/json', json('{"email":"a@b.c"}'), { email: 'a@b.c' }],
    ['Application/JSON; charset=UTF-8', json('{"email":"a@b.c"}'), { email: 'a@b.c' }],
    ['application/json; charset="utf-8"', json('{"email":"a@b.c"}'), { email: 'a@b.c' }],
    // A BOM is dropped, as fetch's json() (better-auth's reader) drops it: the same reading.
    [
      'application/json',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json('{"email":"a@b.c"}')]),
      { email: 'a@b.c' },
    ],
    // A duplicate key: the last one, as JSON.parse keeps it; better-auth then sees only that one.
    ['application/json', json('{"email":"decoy@b.c","email":"a@b.c"}'), { email: 'a@b.c' }],
  ])('%s %s → read', (contentType, body, value) => {
    expect(readAuthBody(contentType, body)).toEqual({ ok: true, value });
  });

  it.each([
    ['application/x-www-form-urlencoded', json('email=a%40b.c&password=x')],
    ['multipart/form-data; boundary=x', json('--x--')],
    ['text/plain', json('{"email":"a@b.c"}')],
    ['application/vnd.api+json', json('{"email":"a@b.c"}')],
    ['application/json; charset=utf-16le', Buffer.from('{"email":"a@b.c"}', 'utf16le')],
    [undefined, json('{"email":"a@b.c"}')],
  ])('%s → 415', (contentType, body) => {
    expect(readAuthBody(contentType, body)).toMatchObject({ ok: false, status: 415 });
  });

  it.each([
    ['not JSON', json('email=a@b.c')],
    ['malformed UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])],
  ])('%s → 400', (_, body) => {
    expect(readAuthBody('application/json', body)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('withoutSecrets', () => {
  it('drops tokens at any depth and keeps the rest', () => {
    expect(
      withoutSecrets({
        token: 't',
        user: { id: 'u', name: 'n' },
        session: { id: 's', token: 't', expiresAt: 'x' },
        sessions: [
          { id: 'a', token: 't1' },
          { id: 'b', token: 't2' },
        ],
      }),
    ).toEqual({
      user: { id: 'u', name: 'n' },
      session: { id: 's', expiresAt: 'x' },
      sessions: [{ id: 'a' }, { id: 'b' }],
    });
    expect(withoutSecrets(null)).toBeNull();
  });
});
