// `npm test`: every check and every test tier, in order of cost: lint, types,
// unit and integration tests (vitest), browser tests (Playwright in a real
// Chromium: scripts/lib/chromium.ts). Ends with one summary line: "fabric: N passed, M failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { E2E } from '../e2e/stack.config';
import { REPO_ROOT } from '../packages/db/src/database';
import { generatePrismaClient } from './lib/prisma-generate';

const reportDir = path.join(REPO_ROOT, '.data-test');
rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const env = {
  ...process.env,
  NODE_OPTIONS:
    `${process.env.NODE_OPTIONS ?? ''} --experimental-wasm-modules --no-warnings=ExperimentalWarning`.trim(),
  NEXT_TELEMETRY_DISABLED: '1',
};
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules/.bin', name);
const failures: string[] = [];
let passed = 0;
let failed = 0;

function step(name: string, command: string, args: string[]): boolean {
  const started = Date.now();
  console.log(`\n▶ ${name}`);
  const result = spawnSync(command, args, { cwd: REPO_ROOT, env, stdio: 'inherit' });
  const ok = result.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (!ok) failures.push(name);
  return ok;
}

/** The end of a browser-test stack's log, and its last errors, so a failed CI run says what the API was doing. */
function printTail(file: string, lines: number): void {
  if (!existsSync(file)) return;
  const all = readFileSync(file, 'utf8').split('\n');
  const errors = all.filter((line) => /error|fatal|uncaught|unhandled|heap|exited/i.test(line)).slice(-30);
  console.log(`\n── ${path.relative(REPO_ROOT, file)}: last errors (${errors.length}) ──\n${errors.join('\n')}`);
  console.log(`── ${path.relative(REPO_ROOT, file)}: last ${lines} lines ──\n${all.slice(-lines).join('\n')}`);
}

function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

generatePrismaClient();
// Every check runs even when an earlier one fails, so one run shows every problem.
for (const [name, args] of [
  ['lint (biome)', ['biome', 'check', '.']],
  ['types (tsc)', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['types (web)', ['tsc', '-p', 'apps/web/tsconfig.json', '--noEmit']],
] as const) {
  if (!step(name, bin(args[0]), args.slice(1))) failed += 1;
}

const vitestJson = path.join(reportDir, 'vitest.json');
step('unit and integration tests (vitest)', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
const vitest = readJson<{
  numPassedTests: number;
  numFailedTests: number;
  numTotalTestSuites: number;
  success: boolean;
  testResults?: {
    name: string;
    status: string;
    message?: string;
    assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}>(vitestJson);
/** Each failed vitest test again, by name with the start of its error, printed last so the end of a CI log says which failed. */
const vitestFailures: string[] = [];
for (const file of vitest?.testResults ?? []) {
  const where = path.relative(REPO_ROOT, file.name);
  const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
  for (const test of failedTests) {
    const message = (test.failureMessages ?? []).join('\n').split('\n').slice(0, 12).join('\n    ');
    vitestFailures.push(`✘ ${where} › ${test.fullName}\n    ${message}`);
  }
  if (file.status === 'failed' && failedTests.length === 0) {
    vitestFailures.push(
      `✘ ${where} (did not run)\n    ${(file.message ?? '').split('\n').slice(0, 12).join('\n    ')}`,
    );
  }
}
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests;
  if (!vitest.success && vitest.numFailedTests === 0) failed += 1; // a file that failed to load
} else {
  failed += 1;
}

const playwrightJson = path.join(reportDir, 'playwright.json');
const e2eOk = step('browser tests (playwright)', bin('playwright'), ['test', '-c', 'e2e/playwright.config.ts']);
const playwright = readJson<{ stats: { expected: number; unexpected: number; flaky: number } }>(playwrightJson);
if (playwright) {
  passed += playwright.stats.expected + playwright.stats.flaky;
  failed += playwright.stats.unexpected;
} else if (!e2eOk) {
  failed += 1;
}
if (!e2eOk) printTail(path.join(E2E.logDir, 'api.log'), 80);

if (vitestFailures.length) console.log(`\nFailed vitest tests:\n${vitestFailures.join('\n')}`);
if (failures.length) console.log(`\nFailed steps: ${failures.join(', ')}`);
console.log(`fabric: ${passed} passed, ${failed} failed`);
process.exit(failures.length || failed ? 1 : 0);
