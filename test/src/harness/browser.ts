import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
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

/**
 * A virtual platform authenticator on the page (Chromium's CDP WebAuthn domain): resident keys,
 * user verification, presence answered at once, as a laptop's passkey prompt would.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
