import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The browser the browser tests drive. Playwright's own download is not
// reachable everywhere and apt is not available everywhere, so: a Chromium the
// user names, else the system's, else the one that the npm package
// @sparticuz/chromium ships inside node_modules (so `npm install && npm test`
// needs nothing from the system).

export const SYSTEM_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for every Chromium we launch. Not @sparticuz/chromium's own `args`:
 * they are for AWS Lambda, and its `--single-process` closes the browser when
 * a test opens a second context (measured with Playwright 1.65);
 * `--disable-web-security` would hide real same-origin behaviour.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-dev-shm-usage',
];

export type ChromiumSource = 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';

export interface ResolvedChromium {
  source: ChromiumSource;
  executablePath: string;
  /** Environment for the browser process, or undefined to inherit ours. */
  env: Record<string, string> | undefined;
}

export async function resolveChromium(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedChromium> {
  const named = env.CHROMIUM_PATH;
  if (named) {
    // A path the user chose that is not there is a mistake to report, not a
    // reason to quietly test with another browser.
    if (!existsSync(named)) {
      throw new Error(
        `CHROMIUM_PATH is ${named}, which does not exist. Unset it to use ${SYSTEM_CHROMIUM_PATH} or the Chromium of @sparticuz/chromium.`,
      );
    }
    return { source: 'CHROMIUM_PATH', executablePath: named, env: undefined };
  }
  if (existsSync(SYSTEM_CHROMIUM_PATH)) {
    return { source: 'system', executablePath: SYSTEM_CHROMIUM_PATH, env: undefined };
  }
  return packagedChromium(env);
}

/**
 * Unpacks the packaged Chromium (and its fonts) into the temp directory, once
 * per machine: about 2 s the first time, a file check after.
 */
async function packagedChromium(env: NodeJS.ProcessEnv): Promise<ResolvedChromium> {
  const { default: spx, inflate } = await import('@sparticuz/chromium');
  const executablePath = await spx.executablePath();
  // The binary links NSS, NSPR and expat from the system; the package ships
  // them (built for Amazon Linux, which it only unpacks there). Using them on
  // every machine means a minimal image without libnss3 runs it too.
  const binDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const libDir = path.join(await inflate(path.join(binDir, 'al2023.tar.br')), 'lib');
  const browserEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) browserEnv[key] = value;
  browserEnv.LD_LIBRARY_PATH = [libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  // Without a system fontconfig (no /etc/fonts), text would have no font at
  // all; the package's own fonts.conf points at the fonts it unpacked.
  if (!env.FONTCONFIG_PATH && !existsSync('/etc/fonts/fonts.conf')) {
    browserEnv.FONTCONFIG_PATH = path.join(tmpdir(), 'fonts');
  }
  return { source: '@sparticuz/chromium', executablePath, env: browserEnv };
}
