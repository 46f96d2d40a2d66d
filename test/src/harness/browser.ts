import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { findOrInstall } from './aptInstall';

/** Debian's Chromium, installed with apt-get the first time (never a downloaded browser build). */
function ensureChromium(): Promise<string> {
  return findOrInstall({ candidates: ['/usr/bin/chromium'], aptPackage: 'chromium' });
}

/** Headless Chromium as the machine allows it: no sandbox as root, no calls home. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await ensureChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let bundle: Promise<string> | undefined;

/** `@iam/client` bundled for the browser as a page would ship it, exposed as `window.iam`. */
export function browserClientBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [fileURLToPath(new URL('../browser/entry.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]?.text ?? '');
  return bundle;
}
