import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * What the agent keeps between runs, under its state directory:
 * - `credential.json` {apiUrl, hostId, clusterId, credential}: written once at
 *   registration. It is a bearer secret, hence 0600 in a 0700 directory.
 * - `seq.json` {lastSeq}: the last sequence number sent, so that seq keeps
 *   increasing across a restart even when the clock stepped back or the last
 *   seq had been bumped ahead of the clock after a REPLAYED answer.
 *
 * Every write is atomic (temp file in the same directory, fsync, rename, fsync
 * of the directory): a crash leaves the old file or the new one, never half of
 * one, which matters most for the credential that cannot be fetched again.
 */
export const storedCredentialSchema = z.object({
  apiUrl: z.string().min(1),
  hostId: z.string().min(1),
  clusterId: z.string().min(1),
  credential: z.string().min(1),
});
export type StoredCredential = z.infer<typeof storedCredentialSchema>;

const seqFileSchema = z.object({ lastSeq: z.number().int().min(0) });

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

export class StateStore {
  readonly credentialPath: string;
  private readonly seqPath: string;

  constructor(readonly dir: string) {
    this.credentialPath = path.join(dir, 'credential.json');
    this.seqPath = path.join(dir, 'seq.json');
  }

  async loadCredential(): Promise<StoredCredential | null> {
    const raw = await readIfExists(this.credentialPath);
    if (raw === null) return null;
    const parsed = storedCredentialSchema.safeParse(parseJson(raw));
    if (!parsed.success) {
      // Never guess: a damaged credential file is for a person to look at, not to overwrite.
      throw new StateError(
        `${this.credentialPath} is not a valid agent credential file; move it away to register again`,
      );
    }
    return parsed.data;
  }

  async saveCredential(credential: StoredCredential): Promise<void> {
    await this.ensureDir();
    await writeFileAtomic(this.credentialPath, `${JSON.stringify(credential, null, 2)}\n`);
  }

  /** The last seq sent, or 0 when none was recorded (or the file is unreadable: the clock rule still holds). */
  async loadLastSeq(): Promise<number> {
    const raw = await readIfExists(this.seqPath);
    if (raw === null) return 0;
    const parsed = seqFileSchema.safeParse(parseJson(raw));
    return parsed.success ? parsed.data.lastSeq : 0;
  }

  async saveLastSeq(lastSeq: number): Promise<void> {
    await this.ensureDir();
    await writeFileAtomic(this.seqPath, `${JSON.stringify({ lastSeq })}\n`);
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // mkdir's mode only applies to directories it creates and is masked by umask: enforce it on ours.
    await chmod(this.dir, 0o700);
  }
}

/** Writes `content` to `file` through a temp file and a rename, with mode 0600. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    // Creation mode is masked by umask; set it explicitly so the secret is never group-readable.
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  // The rename is only durable once the directory entry is on disk.
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return null;
    throw error;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
