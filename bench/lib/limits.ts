// Every limit of issue 4, each set far above what a bench reaches, so enforcing
// them costs work on each request and tunnel but never refuses or slows one.
// Used by the "limits on" customer of the main run (portcullis-child.ts) and by
// bench/limits-cost.ts.
export const ALL_LIMITS: Record<string, number | string> = {
  rps: 10_000_000,
  bandwidth: 100_000_000_000,
  connBandwidth: 100_000_000_000,
  ipMaxConns: 1_000_000,
  ipRps: 10_000_000,
  quotaBytes: 1e15,
  quotaPeriod: 'month',
};

/** ALL_LIMITS, or only those named in BENCH_LIMITS=rps,bandwidth,... (to find what costs what). */
export function benchLimits(): Record<string, number | string> {
  const only = process.env.BENCH_LIMITS?.split(',');
  return Object.fromEntries(
    Object.entries(ALL_LIMITS).filter(([k]) => !only || only.includes(k) || k === 'quotaPeriod'),
  );
}
