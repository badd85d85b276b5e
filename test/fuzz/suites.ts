// The parser suites, in the order docs/reliability.md lists them.
import { cidrSuite } from './cidr.ts';
import type { Suite } from './common.ts';
import { httpHeadSuite } from './http-head.ts';
import { socks4Suite, socks5Suite } from './socks.ts';
import { unitsSuite } from './units.ts';
import { upstreamLineSuite } from './upstream-line.ts';

export const SUITES: Suite[] = [
  httpHeadSuite,
  socks4Suite,
  socks5Suite,
  upstreamLineSuite,
  cidrSuite,
  unitsSuite,
];
