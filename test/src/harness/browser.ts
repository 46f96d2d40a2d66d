import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

const run = promisify(execFile);
const chromiumPath = '/usr/bin/chromium';

/** Debian's Chromium, installed with apt-get the first time (never a downloaded browser build). */
async function ensureChromium(): Promise<string> {
  const present = await access(chromiumPath).then(
    () => true,
    () => false,
  );
  if (present) return chromiumPath;
  if (process.getuid?.() !== 0) throw new Error('Chromium is not installed: apt-get install chromium');
  const install = () =>
    run(
      'env',
      [
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '--no-install-recommends',
        '-o',
        'DPkg::Lock::Timeout=120',
        'chromium',
      ],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  await install().catch(async () => {
    await run('apt-get', ['update'], { maxBuffer: 64 * 1024 * 1024 });
    await install();
  });
  return chromiumPath;
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
