import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { sendJsonError } from './errorEnvelope';
import { escapeHtml } from './html';

/**
 * The web console's policy (OWASP ASVS 4.0 V14.4.3): scripts, styles and connections to this
 * origin only, no inline script or style, images from here or `data:` (the TOTP QR code), never
 * framed, `<base>` only as the service sets it.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The built console (`console/dist/` in a checkout, `dist/console/` inside the published server
 * package): the nearest folder above this module that holds its `index.html`, or null when the
 * console has not been built.
 */
export function findConsoleAssets(start = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let directory = start;
  for (let level = 0; level < 6; level++) {
    for (const candidate of [path.join(directory, 'console', 'dist'), path.join(directory, 'dist', 'console')]) {
      if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    }
    directory = path.dirname(directory);
  }
  return null;
}

/**
 * `GET /console/…`: the console's hashed assets (cached for a year), and for every other path
 * its `index.html` with a `<base>` naming where the console is mounted, so the same build works
 * at `/console/` and inside a host app at `/auth/console/`.
 */
export function createConsoleRoutes(assets: string | null = findConsoleAssets()): Router {
  const router = express.Router();
  const index = assets ? readFileSync(path.join(assets, 'index.html'), 'utf8') : null;
  router.use('/console', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', consoleContentSecurityPolicy);
    next();
  });
  if (assets) {
    router.use(
      '/console/assets',
      express.static(path.join(assets, 'assets'), { immutable: true, maxAge: '365d', index: false, dotfiles: 'ignore' }),
    );
  }
  router.use('/console/assets', (_req, res) => {
    sendJsonError(res, 'NOT_FOUND');
  });
  router.get(/^\/console(\/.*)?$/, (req, res) => {
    if (!index) {
      sendJsonError(res, 'NOT_FOUND', { message: 'The console is not built (pnpm build).' });
      return;
    }
    if (req.path === '/console') {
      res.redirect(301, `${req.baseUrl}/console/`);
      return;
    }
    const base = `${req.baseUrl}/console/`;
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(index.replace('<head>', `<head><base href="${escapeHtml(base)}">`));
  });
  return router;
}
