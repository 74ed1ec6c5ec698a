import * as assert from 'uvu/assert';
import { suite, withDeadline } from './kit.js';

const kit = suite('kit');
kit('a hanging test body fails with a timeout message', async () => {
  const hang = new Promise<void>(() => {});
  const err = await withDeadline('probe', 20, () => hang).then(() => null, (e: Error) => e);
  assert.ok(err instanceof Error);
  assert.is(err.message, 'timed out after 20 ms: probe');
});
kit('a quick test body passes through its value', async () => {
  assert.is(await withDeadline('probe', 1000, () => 42), 42);
});
kit.run();
