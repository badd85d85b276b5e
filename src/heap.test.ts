import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixedSemiSpaceMb, HEAP_FLAGS, SEMI_SPACE_MB } from './heap.ts';

const root = new URL('../', import.meta.url);

test('fixedSemiSpaceMb: fixed only when minimum and maximum are given and equal', () => {
  assert.equal(fixedSemiSpaceMb([...HEAP_FLAGS]), SEMI_SPACE_MB);
  assert.equal(fixedSemiSpaceMb(['--min_semi_space_size=32', '--max-semi-space-size=32']), 32);
  assert.equal(fixedSemiSpaceMb(['--expose-gc', '--min-semi-space-size=8', '--max-semi-space-size=8']), 8);
  assert.equal(fixedSemiSpaceMb([]), undefined);
  assert.equal(fixedSemiSpaceMb(['--max-semi-space-size=16']), undefined);
  assert.equal(fixedSemiSpaceMb(['--min-semi-space-size=8', '--max-semi-space-size=16']), undefined);
  assert.equal(fixedSemiSpaceMb(['--min-semi-space-size=0', '--max-semi-space-size=0']), undefined);
  // the last occurrence wins, as in V8
  assert.equal(fixedSemiSpaceMb([...HEAP_FLAGS, '--max-semi-space-size=64']), undefined);
});

test('npm start and the portcullis command pass the heap flags', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    scripts: Record<string, string>;
  };
  for (const script of ['start', 'portcullis'])
    assert.ok(
      pkg.scripts[script].startsWith(`node ${HEAP_FLAGS.join(' ')} src/main.ts`),
      `scripts.${script}`,
    );
  const shebang = readFileSync(new URL('src/main.ts', root), 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${HEAP_FLAGS.join(' ')}`);
});
