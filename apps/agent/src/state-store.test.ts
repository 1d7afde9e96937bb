import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError, StateStore, writeFileAtomic } from './state-store';

const credential = {
  apiUrl: 'http://api.example:4000',
  hostId: '6f1c3a52-3f4e-4a51-9b1e-8a7c2f0d9e11',
  clusterId: '0b7f6a2d-5c1e-4d3b-8e9f-1a2b3c4d5e6f',
  credential: '6f1c3a52-3f4e-4a51-9b1e-8a7c2f0d9e11.secret',
};

describe('StateStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'fabric-state-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores the credential 0600 in a 0700 directory and reads it back', async () => {
    const store = new StateStore(path.join(root, 'nested', 'hv-01'));
    expect(await store.loadCredential()).toBeNull();
    await store.saveCredential(credential);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(store.credentialPath)).mode & 0o777).toBe(0o600);
    expect(await store.loadCredential()).toEqual(credential);
  });

  it('tightens an existing directory to 0700', async () => {
    const dir = path.join(root, 'loose');
    await mkdir(dir, { mode: 0o755 });
    await new StateStore(dir).saveCredential(credential);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('replaces the file whole and leaves no temp files behind', async () => {
    const store = new StateStore(root);
    await store.saveCredential(credential);
    await store.saveCredential({ ...credential, credential: 'rotated' });
    expect((await store.loadCredential())?.credential).toBe('rotated');
    expect((await stat(store.credentialPath)).mode & 0o777).toBe(0o600);
    expect((await readdir(root)).sort()).toEqual(['credential.json']);
  });

  it('cleans up its temp file when the rename fails, leaving the target as it was', async () => {
    // A non-empty directory where the file should go makes rename() fail.
    const target = path.join(root, 'target');
    await mkdir(target);
    await writeFile(path.join(target, 'keep'), 'old');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect((await readdir(root)).sort()).toEqual(['target']);
    expect(await readFile(path.join(target, 'keep'), 'utf8')).toBe('old');
  });

  it('refuses a damaged credential file instead of guessing', async () => {
    const store = new StateStore(root);
    await writeFile(store.credentialPath, '{"apiUrl": "x"');
    await expect(store.loadCredential()).rejects.toBeInstanceOf(StateError);
  });
});
