// Before `pnpm start`: compiles the standalone service (`server/dist/bin/`) when it is missing or
// older than any of its sources, so a checkout always runs what it holds, with plain `node`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const output = path.join(repoRoot, 'server/dist/bin/main.js');
const inputs = ['server/src', 'shared/src', 'emails/src', 'drizzle', 'server/tsdown.config.ts', 'tsdown.base.ts', 'pnpm-lock.yaml'];

function newestChange(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestChange(path.join(entry, name)));
  return newest;
}

const builtAt = existsSync(output) ? statSync(output).mtimeMs : 0;
const changedAt = Math.max(
  ...inputs
    .map((input) => path.join(repoRoot, input))
    .filter(existsSync)
    .map(newestChange),
);
if (changedAt > builtAt) {
  console.log(builtAt === 0 ? 'building the service (first start)…' : 'sources changed since the last build: building the service…');
  // The runtime only (`--filter bin`: no declarations), so it needs no type checker.
  const result = spawnSync('pnpm', ['--filter', '@iam/server', 'exec', 'tsdown', '--filter', 'bin', '--logLevel', 'error'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
