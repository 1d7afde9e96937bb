/**
 * Why a call to the control plane failed before it gave an answer in tRPC's
 * shape: nothing answered (network down, API stopped: the Next.js proxy says
 * 502/503/504 or 500 in plain text), or an answer that is not JSON (431: the
 * request's URL too long; 413: its body too large; a proxy's error page).
 * tRPC's client would otherwise show "Unexpected end of JSON input".
 */
export class HttpFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'too-large' | 'server' | 'refused',
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const TOO_LARGE = new Set([413, 414, 431]);

/** `fetch` for the tRPC links: a failure without a tRPC answer becomes an HttpFailure with a message people can act on. */
export async function explainingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(input, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new HttpFailure('unreachable', null, 'The control plane did not answer: check your connection, then retry.');
  }
  if (response.ok || (response.headers.get('content-type') ?? '').includes('application/json')) return response;
  const status = response.status;
  if (TOO_LARGE.has(status)) {
    throw new HttpFailure(
      'too-large',
      status,
      `The request is too large for the server (HTTP ${status}): ask for less at once.`,
    );
  }
  if (status === 502 || status === 503 || status === 504 || status === 500) {
    // Not tRPC's JSON: the console's proxy answered because the API did not.
    throw new HttpFailure(
      'unreachable',
      status,
      `The control plane did not answer (HTTP ${status}). Retry in a moment.`,
    );
  }
  throw new HttpFailure('refused', status, `The server refused the request (HTTP ${status}).`);
}
