import { createHash } from 'node:crypto';

/** The longest slug: it names download files (`bill-<slug>-<from>-<to>.csv`) and sits in CSV and JSON. */
const MAX_LENGTH = 60;
/** Suffix of a name written (partly) in another script than Latin: a hyphen and 8 base-32 characters (40 bits). */
const SUFFIX_LENGTH = 9;

// Letters NFKD does not take apart into an ASCII letter and a mark.
const LATIN: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  ŀ: 'l',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ŋ: 'ng',
};

// Readable ASCII for Cyrillic (Russian, Ukrainian, Belarusian, Serbian, Macedonian, Bulgarian) and Greek,
// after NFKD has split off their accents (й → и + breve, ё → е + diaeresis, ά → α + acute).
// biome-ignore format: one script per line
const TRANSLITERATION: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', ґ: 'g', д: 'd', ђ: 'dj', е: 'e', є: 'ye', ж: 'zh', з: 'z', ѕ: 'dz', и: 'i', і: 'i', ј: 'j', к: 'k', л: 'l', љ: 'lj', м: 'm', н: 'n', њ: 'nj', о: 'o', п: 'p', р: 'r', с: 's', т: 't', ћ: 'c', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', џ: 'dz', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o',
};

const NOT_LATIN = /[\p{L}\p{N}]/u;
const LATIN_OR_ASCII = /[\p{Script=Latin}0-9]/u;

/**
 * The name's letters and digits in any script, lower-cased, one hyphen
 * between runs of them: what makes two names the same ("Blue Corp",
 * "BLUE-CORP!"; "Москва", "МОСКВА"). Empty when the name has none.
 */
export function nameKey(name: string): string {
  return (
    name
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{M}\p{N}]+/gu)
      ?.join('-') ?? ''
  );
}

function base32(bytes: Uint8Array, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

/**
 * A tenant's slug: lower-case ASCII letters, digits and inner hyphens, at
 * most 60 characters, safe in a file name and a URL. "Blue Corp" →
 * "blue-corp", "Café Zürich" → "cafe-zurich". A name with letters or digits
 * outside the Latin script keeps what transliterates ("Газпром" → "gazprom",
 * "Αθήνα" → "athina"; kanji, kana, Hangul and Arabic have no ASCII form here)
 * and gets a suffix from a hash of its `nameKey`, so "Газпром" is not
 * "Gazprom", "東京" is not "大阪", and the same name in another case or
 * punctuation still meets its twin. Empty only when the name has no letter or
 * digit at all. Stable: the same name always gives the same slug.
 */
export function slugify(name: string): string {
  const key = nameKey(name);
  if (!key) return '';
  const ascii = [...name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()]
    .map((ch) => LATIN[ch] ?? TRANSLITERATION[ch] ?? ch)
    .join('')
    .replace(/[^a-z0-9]+/g, '-');
  const foreign = [...key].some((ch) => NOT_LATIN.test(ch) && !LATIN_OR_ASCII.test(ch));
  if (!foreign) return cut(ascii, MAX_LENGTH);
  const suffix = base32(createHash('sha256').update(key).digest(), SUFFIX_LENGTH - 1);
  const head = cut(ascii, MAX_LENGTH - SUFFIX_LENGTH);
  return head ? `${head}-${suffix}` : suffix;
}

/** Cut before trimming, so a cut that lands on a separator leaves no trailing hyphen. */
function cut(slug: string, length: number): string {
  return slug.slice(0, length).replace(/^-+|-+$/g, '');
}
