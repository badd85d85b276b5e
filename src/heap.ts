// The V8 young generation ("new space": two semi-spaces where every object is
// born) of the server's threads is fixed in size. Left to V8 it grows to 128 MB
// per thread under load (64 MB semi-spaces on a 64-bit machine), shrinks to
// ~1 MB after a couple of idle minutes, and grows back with the next burst: a
// process's memory then swings by up to 128 MB per gateway thread with its
// traffic history, not with what it holds. Fixed at 16 MB semi-spaces it costs
// 32 MB per thread, always; rates measured the same as with V8's sizing
// (docs/architecture.md, "Memory"). V8 reads these flags only when a heap is
// created, so they go on Node's command line (NODE_OPTIONS refuses the
// minimum): src/main.ts's shebang and package.json's "start" pass them, and
// worker threads inherit them.

/** Semi-space size, MB: the young generation of each thread is twice this. */
export const SEMI_SPACE_MB = 16;

/** The Node flags the `portcullis` command and `npm start` run with. */
export const HEAP_FLAGS: readonly string[] = [
  `--min-semi-space-size=${SEMI_SPACE_MB}`,
  `--max-semi-space-size=${SEMI_SPACE_MB}`,
];

/**
 * The semi-space size (MB) this process was started with when its young
 * generation is fixed (minimum and maximum given and equal), else undefined.
 * V8 takes these flags as `--flag=N` only (Node refuses `--flag N`), with `_`
 * or `-` in the name; the last occurrence wins.
 */
export function fixedSemiSpaceMb(execArgv: readonly string[] = process.execArgv): number | undefined {
  const seen: Record<string, number> = {};
  for (const arg of execArgv) {
    const m = /^--(min|max)[-_]semi[-_]space[-_]size=(.*)$/.exec(arg);
    if (m) seen[m[1]] = Number(m[2]);
  }
  const { min, max } = seen;
  return min !== undefined && min === max && Number.isInteger(min) && min > 0 ? min : undefined;
}
