// Shared pieces of the parser fuzzers: a suite is a list of fast-check
// properties over one parser; `npm test` runs each suite with a few thousand
// inputs (test/fuzz/parsers.test.ts), `npm run fuzz` with a million or more
// (test/fuzz/run.ts). The byte mutator turns well-formed messages into
// nearly-well-formed ones, which reach deeper into a parser than pure noise.
import fc from 'fast-check';

export interface Suite {
  /** the parser under test, as named in docs/reliability.md */
  parser: string;
  /** its source file */
  file: string;
  /** weight: share of the suite's inputs this property gets */
  properties: { name: string; weight?: number; property: fc.IRawProperty<unknown> }[];
}

/** Runs per property so that the suite as a whole tries `total` inputs (weights split it). */
export function runsPer(suite: Suite, total: number): number[] {
  const weights = suite.properties.map((p) => p.weight ?? 1);
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => Math.max(1, Math.ceil((total * w) / sum)));
}

/** Bytes a parser treats specially: separators, lengths, versions, the edges of a byte. */
const SPECIAL = [0, 1, 2, 3, 4, 5, 9, 10, 13, 32, 35, 37, 44, 46, 47, 58, 64, 91, 93, 127, 128, 255];

const byteArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 }));

/** Pure noise: any bytes, short ones more often; some runs of one special byte. */
export function noise(maxLength = 512): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength }).map((a) => Buffer.from(a)), weight: 3 },
    {
      arbitrary: fc
        .tuple(fc.uint8Array({ maxLength: 16 }), fc.constantFrom(...SPECIAL), fc.nat(maxLength))
        .map(([a, b, n]) => Buffer.concat([Buffer.from(a), Buffer.alloc(n, b)])),
      weight: 1,
    },
  );
}

type Op = [kind: number, at: number, byte: number, n: number];

function applyOps(input: Uint8Array, ops: Op[]): Buffer {
  let b = Buffer.from(input);
  for (const [kind, at, byte, n] of ops) {
    const i = at % (b.length + 1);
    switch (kind) {
      case 0: // overwrite one byte
        if (i < b.length) b[i] = byte;
        break;
      case 1: // insert a run of one byte
        b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + (n % 4), byte), b.subarray(i)]);
        break;
      case 2: // delete a run
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + (n % 8))]);
        break;
      case 3: // truncate
        b = b.subarray(0, i);
        break;
      case 4: // duplicate a slice (repeated fields, doubled lengths)
        b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + 1 + n), b.subarray(i)]);
        break;
    }
  }
  return b;
}

/** A well-formed message with a few random edits (overwrite, insert, delete, truncate, duplicate). */
export function mutated(valid: fc.Arbitrary<Uint8Array>, maxOps = 6): fc.Arbitrary<Buffer> {
  const op = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.nat(), byteArb, fc.nat(63));
  return fc
    .tuple(valid, fc.array(op, { minLength: 1, maxLength: maxOps }))
    .map(([b, ops]) => applyOps(b, ops));
}

/** Noise, mutated messages and intact ones, in the shares a robustness property wants. */
export function hostileBytes(valid: fc.Arbitrary<Uint8Array>, maxNoise = 512): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: noise(maxNoise), weight: 2 },
    { arbitrary: mutated(valid), weight: 5 },
    { arbitrary: valid.map((b) => Buffer.from(b)), weight: 1 },
  );
}

/** Text counterpart of mutated(): edits on latin1 text, any code unit inserted. */
export function hostileText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 2 },
    {
      arbitrary: mutated(valid.map((s) => Buffer.from(s, 'latin1'))).map((b) => b.toString('latin1')),
      weight: 5,
    },
    { arbitrary: valid, weight: 1 },
  );
}

/** Cut points strictly inside [1, n): where a TCP segment may end. */
export function cuts(n: number, picks: number[]): number[] {
  if (n <= 1) return [];
  return [...new Set(picks.map((p) => 1 + (p % (n - 1))))];
}
