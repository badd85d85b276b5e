// `npm run fuzz`: the long fuzz run of issue 7, bounded in count and time.
//
//   1. Every parser suite (test/fuzz/suites.ts) with FUZZ_RUNS inputs each
//      (default 1,000,000), each suite capped at FUZZ_PARSER_SECONDS (600).
//   2. The live gateway and the live API on loopback (test/fuzz/live.ts):
//      FUZZ_LIVE_INPUTS connections each (default 50,000), each run capped at
//      FUZZ_LIVE_SECONDS (300), 64 in flight; heap measured after a forced GC
//      before and after, and must not grow more than FUZZ_MAX_HEAP_GROWTH_MB (16).
//
// FUZZ_SEED fixes the seed (default: the clock; printed, so any failure
// replays with FUZZ_SEED=<seed>). FUZZ_ONLY=parsers|live runs one half.
// Exit status 1 when anything failed. Run with --expose-gc (the npm script
// does) so heap figures are after collection.
import fc from 'fast-check';
import { runsPer } from './common.ts';
import { fuzzApi, fuzzGateway, type LiveOptions, type LiveReport } from './live.ts';
import { SUITES } from './suites.ts';

const env = process.env;
const RUNS = Number(env.FUZZ_RUNS ?? 1_000_000);
const PARSER_SECONDS = Number(env.FUZZ_PARSER_SECONDS ?? 600);
const LIVE_INPUTS = Number(env.FUZZ_LIVE_INPUTS ?? 50_000);
const LIVE_SECONDS = Number(env.FUZZ_LIVE_SECONDS ?? 300);
const MAX_HEAP_GROWTH_MB = Number(env.FUZZ_MAX_HEAP_GROWTH_MB ?? 16);
const SEED = env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(env.FUZZ_SEED);
const ONLY = env.FUZZ_ONLY ?? 'all';

const started = Date.now();
const problems: string[] = [];
const out = (s: string) => process.stdout.write(`${s}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

out(
  `portcullis fuzz: seed ${SEED}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: heap figures include garbage)'}`,
);

if (ONLY === 'all' || ONLY === 'parsers') {
  out(`\nparsers: ${RUNS.toLocaleString('en')} inputs each, at most ${PARSER_SECONDS} s each`);
  for (const suite of SUITES) {
    const t0 = Date.now();
    const deadline = t0 + PARSER_SECONDS * 1000;
    const runs = runsPer(suite, RUNS);
    let tried = 0;
    const failed: string[] = [];
    suite.properties.forEach((p, i) => {
      const left = deadline - Date.now();
      if (left <= 0) return;
      // The properties are synchronous: check() answers at once.
      const r = fc.check(p.property, {
        numRuns: runs[i],
        seed: SEED + i,
        interruptAfterTimeLimit: left,
        markInterruptAsFailure: false,
      }) as fc.RunDetails<unknown>;
      tried += r.numRuns;
      if (r.failed)
        failed.push(
          `${p.name}: seed ${r.seed}, path "${r.counterexamplePath}", counterexample ${fc.stringify(r.counterexample).slice(0, 600)}: ${String(r.errorInstance).slice(0, 600)}`,
        );
    });
    const ms = Date.now() - t0;
    const rate = Math.round(tried / (ms / 1000));
    out(
      `  ${suite.parser.padEnd(42)} ${tried.toLocaleString('en').padStart(11)} inputs  ${secs(ms).padStart(8)}  ${rate.toLocaleString('en')}/s  ${failed.length ? 'FAILED' : 'ok'}`,
    );
    for (const f of failed) {
      out(`    ${f}`);
      problems.push(`${suite.parser}: ${f}`);
    }
    if (tried < RUNS)
      problems.push(`${suite.parser}: only ${tried} of ${RUNS} inputs within ${PARSER_SECONDS} s`);
  }
}

if (ONLY === 'all' || ONLY === 'live') {
  const opts: LiveOptions = {
    inputs: LIVE_INPUTS,
    deadlineMs: LIVE_SECONDS * 1000,
    concurrency: 64,
    seed: SEED,
    canaryEvery: 1000,
    holdMs: 300,
    progress: (line) => {
      if (env.FUZZ_VERBOSE) out(line);
    },
  };
  for (const [name, run] of [
    ['live gateway (HTTP, SOCKS5, SOCKS4 on loopback)', fuzzGateway],
    ['live API (HTTP/1.1 on loopback)', fuzzApi],
  ] as const) {
    out(`\n${name}: up to ${LIVE_INPUTS.toLocaleString('en')} connections, at most ${LIVE_SECONDS} s`);
    let r: LiveReport;
    try {
      r = await run(opts);
    } catch (e) {
      problems.push(`${name}: ${String((e as Error)?.stack ?? e)}`);
      out(`  crashed: ${String(e)}`);
      continue;
    }
    const growth = Math.round((r.heapAfterMb - r.heapBeforeMb) * 10) / 10;
    out(
      `  ${r.inputs.toLocaleString('en')} inputs in ${secs(r.ms)}: ${r.answered} answered, ${r.closedByServer} closed by the server${r.reachedUpstream === undefined ? '' : `, ${r.reachedUpstream} reached the upstream`}, ${r.canaries} canaries ok`,
    );
    out(
      `  heap ${r.heapBeforeMb} MB before, ${r.heapAfterMb} MB after (${growth >= 0 ? '+' : ''}${growth} MB)`,
    );
    out(
      `  answers: ${Object.entries(r.shapes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    for (const f of r.failures) {
      out(`  FINDING ${f}`);
      problems.push(`${r.target}: ${f}`);
    }
    if (r.inputs < LIVE_INPUTS) out(`  (time cap reached: ${r.inputs} of ${LIVE_INPUTS})`);
    if (growth > MAX_HEAP_GROWTH_MB)
      problems.push(`${r.target}: heap grew ${growth} MB (limit ${MAX_HEAP_GROWTH_MB})`);
  }
}

out(
  `\nwall time ${secs(Date.now() - started)}; ${problems.length ? `${problems.length} problem(s)` : 'no problems'}`,
);
for (const p of problems) out(`  - ${p.slice(0, 300)}`);
process.exit(problems.length ? 1 : 0);
