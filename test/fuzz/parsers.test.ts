// Every parser's properties with a few thousand inputs each (a fresh seed
// per run: a failure prints the seed and the shrunk counterexample, and
// FUZZ_SEED=<seed> replays it). The long run is `npm run fuzz`.
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SUITES } from './suites.ts';

const TOTAL = Number(process.env.FUZZ_TEST_RUNS ?? 4000);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

for (const suite of SUITES) {
  describe(`fuzz: ${suite.parser} (${suite.file})`, () => {
    const runs = suite.properties.map((p) => p.weight ?? 1);
    const sum = runs.reduce((a, b) => a + b, 0);
    suite.properties.forEach((p, i) => {
      const numRuns = Math.max(1, Math.ceil((TOTAL * runs[i]) / sum));
      test(`${p.name} (${numRuns} inputs)`, () => {
        fc.assert(p.property, { numRuns, seed });
      });
    });
  });
}
