/**
 * A JSON body's shape, judged from its bytes before JSON.parse sees them.
 * JSON.parse is cheap per byte for flat text but not for nesting: 600 KB of
 * `[[[[…]]]]` (300,000 levels) took ~700 ms of CPU in V8 to parse, on the
 * event loop every other caller shares, from a caller who need not even be
 * signed in. No Fabric input nests deeper than a dozen levels or holds more
 * than some tens of thousands of values, so a body past either limit is
 * refused before it is parsed. The scan is one pass over the bytes with no
 * allocation (~1 ms a MiB).
 */
export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects accepted (the top-level value is depth 1). */
  maxDepth: number;
  /** Most values (array elements and object members, at every depth) accepted. */
  maxValues: number;
}

/** What every JSON body Fabric reads is held to unless a route says otherwise (tRPC, auth). */
export const JSON_SHAPE_LIMITS: JsonShapeLimits = { maxDepth: 32, maxValues: 100_000 };

export type JsonShapeVerdict = { ok: true } | { ok: false; reason: 'depth' | 'values'; message: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/**
 * Counts nesting and values without parsing: brackets and commas outside
 * strings. Malformed JSON is not this function's to find (JSON.parse will);
 * it only has to be cheap on every input and never under-count a valid one.
 * Values are counted as the commas plus one per non-empty container, which
 * is exact for valid JSON (object members count once, not key and value).
 */
export function checkJsonShape(body: Uint8Array, limits: JsonShapeLimits = JSON_SHAPE_LIMITS): JsonShapeVerdict {
  let depth = 0;
  let values = 0;
  let inString = false;
  // After an opening bracket: the next non-space byte says whether the container is empty.
  let justOpened = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (justOpened && byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
      justOpened = false;
      if (byte !== CLOSE_BRACKET && byte !== CLOSE_BRACE) values++;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      justOpened = true;
      if (depth > limits.maxDepth) {
        return {
          ok: false,
          reason: 'depth',
          message: `The request body nests arrays and objects more than ${limits.maxDepth} levels deep, the most this API accepts`,
        };
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--;
    else if (byte === COMMA) values++;
    if (values > limits.maxValues) {
      return {
        ok: false,
        reason: 'values',
        message: `The request body holds more than ${limits.maxValues.toLocaleString('en-US')} values, the most this API accepts in one call`,
      };
    }
  }
  return { ok: true };
}
