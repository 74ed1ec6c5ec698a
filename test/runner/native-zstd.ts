/**
 * Where the native zstd unit files run: on this Node when node:zlib has zstd, else again under a Node that has it.
 * Shared by test/run.ts and its own test (test/runner/runner.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Unit test files whose native zstd tests only run where node:zlib has zstd (`TEST_NATIVE_ZSTD_FILES`, a comma
 * list of path prefixes inside the build folder, replaces the list: the runner's own tests use it).
 */
export function nativeZstdFiles(): string[] {
  return process.env.TEST_NATIVE_ZSTD_FILES?.split(',').filter(Boolean) ?? ['test/protocol/compression.test', 'test/protocol/zstd-context.test'];
}

/** The tag those files give their native tests (kit.ts `onlyIf`), counted so a run can demand that they ran. */
export const NATIVE_ZSTD_TAG = 'native-zstd';

/**
 * A Node binary with zstd in node:zlib: $TEST_NATIVE_ZSTD_NODE, the one .ci/run installs, or the bench's;
 * `TEST_NATIVE_ZSTD_NODE=none` looks for none.
 */
export function nativeZstdNode(repo: string): string | undefined {
  if (process.env.TEST_NATIVE_ZSTD_NODE === 'none') return undefined;
  const candidates = [process.env.TEST_NATIVE_ZSTD_NODE, join(repo, '.kafka/node22/node_modules/.bin/node'), join(repo, 'bench/node_modules/.bin/node')];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}
