import { z } from 'zod';
import { text } from '../shared/text.schema';

/**
 * A host's BMC (baseboard management controller) for HA fencing (docs/high-availability.md): its
 * Redfish endpoint and login, kept like the host's credentials. The password goes in and is never
 * returned: the API answers the URL, the username and whether a password is set.
 */
const hostId = z.string().uuid('host id must be a UUID');

export const bmcUrlSchema = z
  .string({ error: 'BMC URL must be text' })
  .trim()
  .min(1, 'BMC URL is required')
  .max(500, 'BMC URL must be at most 500 characters')
  // Printable ASCII only: a line break or a right-to-left override would be stored, audited and shown as sent.
  .regex(/^[\x21-\x7E]+$/, 'BMC URL must be printable ASCII without spaces (percent-encode anything else)')
  .refine(isHttpUrl, 'BMC URL must be an http(s) URL such as https://10.0.0.5 or http://127.0.0.1:8443')
  // A login inside the URL would be stored in clear and shown to everyone who reads the host.
  .refine(hasNoUserInfo, 'BMC URL must not hold a username or password: use the fields for them');

export const setHostBmcInput = z
  .object({
    hostId,
    url: bmcUrlSchema,
    username: text('BMC username', { min: 1, max: 64 }),
    /** Omitted when only the URL or username change: the password set before stays. */
    password: z
      .string({ error: 'BMC password must be text' })
      .min(1, 'BMC password must not be empty')
      .max(128, 'BMC password must be at most 128 characters')
      .optional(),
  })
  .strict();
export type SetHostBmcInput = z.infer<typeof setHostBmcInput>;

export const hostBmcInput = z.object({ hostId }).strict();

/** What the API shows of a host's BMC (null: none configured). */
export const hostBmcSchema = z
  .object({
    url: z.string(),
    username: z.string(),
    passwordSet: z.boolean(),
    updatedAt: z.date(),
  })
  .nullable();
export type HostBmcView = z.infer<typeof hostBmcSchema>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function hasNoUserInfo(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  } catch {
    return true;
  }
}
