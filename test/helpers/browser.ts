// Chromium (Debian package "chromium") driven by playwright-core for tests
// that load pages through the gateway. Never downloads a browser: the system
// binary is required, and a missing one fails with the package to install.
//
// Chromium never proxies loopback targets unless "<-loopback>" is in the
// bypass list (net/proxy_resolution: implicit bypass rules), and it ignores
// credentials in --proxy-server; playwright's `proxy.username/password` answers
// the 407 challenge through CDP (Fetch.authRequired), which exercises the
// gateway's Proxy-Authenticate path.
import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const LAUNCH_TIMEOUT_MS = 20_000;

export interface BrowserProxy {
  /** e.g. http://127.0.0.1:4000 */
  server: string;
  username?: string;
  password?: string;
}

/** The system Chromium, or an error naming the Debian package (CI installs it). */
export function chromiumPath(): string {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return CHROMIUM_PATH;
  } catch {
    throw new Error(
      `${CHROMIUM_PATH} not found: install the Debian package "chromium" (apt-get install chromium)`,
    );
  }
}

/** Quiet flags: no background fetches, sync or updates that would add proxy traffic of their own. */
const QUIET = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Launches headless Chromium whose every request (loopback included) goes
 * through `proxy`. Close it with `browser.close()` in a finally.
 */
export async function launchChromium(proxy: BrowserProxy): Promise<Browser> {
  const executablePath = chromiumPath();
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: ['--headless', ...QUIET],
    // Playwright writes --proxy-server and, since "<-loopback>" is given, a
    // bypass list holding only that rule: loopback is proxied, nothing bypassed.
    proxy: {
      server: proxy.server,
      bypass: '<-loopback>',
      username: proxy.username,
      password: proxy.password,
    },
  });
}

/** Headless Chromium without a proxy (the web console tests load pages straight from the API). */
export async function launchChromiumDirect(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: ['--headless', ...QUIET],
  });
}
