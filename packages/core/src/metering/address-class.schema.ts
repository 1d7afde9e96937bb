import { z } from 'zod';
import { text } from '../shared/text.schema';

/**
 * Metered address classes (the whitepaper's metered port ACLs, Hyper-V 2012's
 * `Add-VMNetworkAdapterAcl -RemoteIPAddress 10.0.0.0/8 -Direction Both
 * -Action Meter`): a provider names a set of remote CIDR blocks, and every
 * VM's traffic to or from them is reported, stored, rolled up and billed as
 * its own class beside the two fixed ones, `internet` and `datacenter`.
 */

/** Classes a provider may define beyond internet and datacenter. */
export const MAX_ADDRESS_CLASSES = 16;
/** CIDR blocks per class. */
export const MAX_REMOTE_ADDRESSES = 32;
/** The fixed classes every sample already carries; not definable. */
export const FIXED_ADDRESS_CLASSES = ['internet', 'datacenter'] as const;

/** A slug: lower-case letters, digits and inner hyphens, 1–32 characters, starting with a letter. */
export const addressClassNameSchema = z
  .string()
  .regex(
    /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
    'A class name is a slug: 1–32 lower-case letters, digits or inner hyphens, starting with a letter (e.g. "storage")',
  )
  .refine((name) => !(FIXED_ADDRESS_CLASSES as readonly string[]).includes(name), {
    message: '"internet" and "datacenter" are the fixed classes; choose another name',
  });

export interface Cidr {
  version: 4 | 6;
  /** The network address as a number (IPv6 needs 128 bits). */
  network: bigint;
  prefix: number;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // 16-bit groups of one side of "::"; an embedded IPv4 address (::ffff:192.0.2.1) ends the address as two groups.
  const groupsOf = (side: string, endsAddress: boolean): number[] | null => {
    if (side === '') return [];
    const parts = side.split(':');
    const groups: number[] = [];
    for (const [i, part] of parts.entries()) {
      if (endsAddress && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
        groups.push(Number.parseInt(part, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  let value = 0n;
  for (const group of [...head, ...Array<number>(missing).fill(0), ...tail]) value = (value << 16n) | BigInt(group);
  return value;
}

/** Parses "10.0.0.0/8" or "2001:db8::/32"; `{ error }` says why when it is not a CIDR block (host bits must be zero). */
export function parseCidr(text: string): Cidr | { error: string } {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match?.[1] || !match[2]) return { error: `"${text}" is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32` };
  const [, address, prefixText] = match;
  const version = address.includes(':') ? 6 : 4;
  const bits = version === 4 ? 32 : 128;
  const value = version === 4 ? parseIpv4(address) : parseIpv6(address);
  if (value === null) return { error: `"${text}" has no valid IPv${version} address` };
  const prefix = Number(prefixText);
  if (prefix > bits || (prefixText.length > 1 && prefixText.startsWith('0'))) {
    return { error: `"${text}": an IPv${version} prefix length is 0 to ${bits}` };
  }
  const hostBits = BigInt(bits - prefix);
  const network = (value >> hostBits) << hostBits;
  if (network !== value) {
    return { error: `"${text}" has host bits set; the block is ${formatCidr({ version, network, prefix })}` };
  }
  return { version, network, prefix };
}

export function formatCidr(cidr: Cidr): string {
  if (cidr.version === 4) {
    const octets = [24n, 16n, 8n, 0n].map((shift) => ((cidr.network >> shift) & 0xffn).toString());
    return `${octets.join('.')}/${cidr.prefix}`;
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((cidr.network >> shift) & 0xffffn).toString(16));
  return `${groups.join(':')}/${cidr.prefix}`;
}

/** Whether two blocks share an address (one contains the other, as CIDR blocks never partly overlap). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  const bits = BigInt(a.version === 4 ? 32 : 128);
  const shift = bits - BigInt(Math.min(a.prefix, b.prefix));
  return a.network >> shift === b.network >> shift;
}

export const cidrSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(49, 'A CIDR block is at most 49 characters')
  .superRefine((text, ctx) => {
    const parsed = parseCidr(text);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

export const defineAddressClassInput = z.object({
  name: addressClassNameSchema,
  remoteAddresses: z
    .array(cidrSchema)
    .min(1, 'List at least one remote CIDR block')
    .max(MAX_REMOTE_ADDRESSES, `At most ${MAX_REMOTE_ADDRESSES} CIDR blocks per class`)
    .superRefine((blocks, ctx) => {
      const parsed = blocks.map((b) => parseCidr(b));
      for (const [i, a] of parsed.entries()) {
        if ('error' in a) continue;
        for (let j = 0; j < i; j += 1) {
          const b = parsed[j];
          if (b !== undefined && !('error' in b) && cidrsOverlap(a, b)) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `${blocks[i]} overlaps ${blocks[j]} in the same class; list each address once`,
            });
          }
        }
      }
    }),
});
export type DefineAddressClassInput = z.infer<typeof defineAddressClassInput>;

export const removeAddressClassInput = z.object({ name: text('Class name', { min: 1, max: 64 }) });

export const addressClassSchema = z.object({
  name: z.string(),
  remoteAddresses: z.array(z.string()),
  createdAt: z.date(),
});
export type AddressClass = z.infer<typeof addressClassSchema>;
