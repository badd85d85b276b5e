// The live fuzzer, small: a few hundred random and mutated connections
// against a real gateway and a real API on loopback (the long run is
// `npm run fuzz`). No exception, no unexpected error line, no 5xx, the
// canary answered, nothing left open.
import { test } from 'node:test';
import { assertClean, fuzzApi, fuzzGateway, type LiveOptions } from './live.ts';

const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);
const opts: LiveOptions = {
  inputs: Number(process.env.FUZZ_TEST_LIVE ?? 400),
  deadlineMs: 60_000,
  concurrency: 32,
  seed,
  canaryEvery: 100,
  holdMs: 300,
};

test(`live gateway: ${opts.inputs} hostile connections (seed ${seed})`, async () => {
  const r = await fuzzGateway(opts);
  // A few hundred inputs on a shared machine: the heap check is the fuzz script's (larger runs).
  assertClean(r, Number.POSITIVE_INFINITY);
});

test(`live API: ${opts.inputs} hostile requests (seed ${seed})`, async () => {
  const r = await fuzzApi(opts);
  assertClean(r, Number.POSITIVE_INFINITY);
});
