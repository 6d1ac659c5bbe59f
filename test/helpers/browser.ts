/**
 * A real browser for UI tests: Debian's Chromium driven by playwright-core
 * (Playwright's own browser download needs the internet). `launch` resolves
 * to undefined with the reason when no Chromium can be found, so tests skip
 * with that reason instead of failing. Each launch gets a fresh profile in a
 * temporary folder (Playwright's default); the caller closes the browser.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Chromium's flags for a closed network: no background connections it would wait on. */
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function chromiumPath(): string | undefined {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

export async function launchBrowser(): Promise<{ browser: Browser } | { skip: string }> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) return { skip: 'no Chromium found (/usr/bin/chromium or CHROMIUM_PATH): install it with apt-get install chromium' };
  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 30_000 });
  return { browser };
}
