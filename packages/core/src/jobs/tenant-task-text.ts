/**
 * What a tenant reads of a task. Agents and the mobility workflows write their
 * messages for the provider: a storage move's cleanup names the files it
 * deleted or failed to stat on the host ("ENOENT … '/var/lib/fabric/pools/…'"),
 * a migration names peers and pools. Which host runs a VM, and how its files
 * are laid out, is the provider's business (as `hostName` is null for tenants),
 * so tenants get a sentence per kind and state for these kinds, and any host
 * path left in other text is replaced. Applied when read, so rows written
 * before this rule are covered too.
 */

/** Agent task kinds whose messages describe the host's files, pools or peers. */
const HOST_INTERNAL_PREFIXES = ['storage.', 'migration.'] as const;

const TENANT_SENTENCE: Record<string, string> = {
  'storage.copy': "Copying the VM's disks to their new storage",
  'storage.sync': "Keeping the VM's disks in step on their new storage",
  'storage.switch': 'Switching the VM to its new storage',
  'storage.cleanup': "Removing the VM's old disk copies",
  'storage.abort': 'Undoing a storage move',
};

const STATE_SUFFIX: Record<string, string> = {
  queued: ' (waiting)',
  running: '',
  succeeded: ': done',
  failed: ': failed',
  cancelled: ': cancelled',
};

export const HOST_PATH_PLACEHOLDER = '(a path on the host)';
export const TENANT_FAILURE_TEXT = 'The step failed on the provider’s side; your provider has the details';

/**
 * Absolute host paths (POSIX `/a/b…` or Windows `C:\a\b…`), at the start or
 * after a space, quote, bracket or `=`, with at least two segments: "10.0.0.0/24"
 * or "CA/PA" do not start with a slash and are left alone.
 */
const HOST_PATH = /(?<=^|[\s'"(=[])(?:[A-Za-z]:\\|\/)[^\s'"(),;[\]]*[\\/][^\s'"(),;[\]]*/g;

export function redactHostPaths(text: string): string {
  return text.replace(HOST_PATH, HOST_PATH_PLACEHOLDER);
}

export function isHostInternalKind(kind: string): boolean {
  return HOST_INTERNAL_PREFIXES.some((p) => kind.startsWith(p));
}

function sentenceFor(kind: string, state: string): string {
  const base = TENANT_SENTENCE[kind] ?? (kind.startsWith('migration.') ? 'Moving the VM' : 'Working on the VM');
  return `${base}${STATE_SUFFIX[state] ?? ''}`;
}

interface TaskText {
  readonly kind: string;
  readonly state: string;
  readonly message: string;
  readonly errorMessage?: string | null;
  readonly steps?: readonly { readonly detail: string }[];
}

/** The task as a tenant may read it: host-internal kinds in plain words, host paths removed everywhere. */
export function tenantTaskText<T extends TaskText>(task: T): T {
  const internal = isHostInternalKind(task.kind);
  const out: T = {
    ...task,
    message: internal ? sentenceFor(task.kind, task.state) : redactHostPaths(task.message),
  };
  if (task.errorMessage !== undefined) {
    const errorMessage =
      task.errorMessage === null ? null : internal ? TENANT_FAILURE_TEXT : redactHostPaths(task.errorMessage);
    Object.assign(out, { errorMessage });
  }
  if (task.steps) {
    Object.assign(out, { steps: task.steps.map((s) => ({ ...s, detail: redactHostPaths(s.detail) })) });
  }
  return out;
}
