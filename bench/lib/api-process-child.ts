// The API process of `startApiProcess` (api-process.ts): the real API with the
// background workers off, reporting its URL over IPC.
import { parseEnv } from '../../apps/api/src/env';
import { startApi } from '../../apps/api/src/server';

if (!process.send) throw new Error('run by startApiProcess (bench/lib/api-process.ts), which listens for its URL');
const api = await startApi(parseEnv(process.env), { monitor: false });
process.send({ url: api.url });
process.once('SIGTERM', () => {
  api.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
