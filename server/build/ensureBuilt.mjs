// Builds what is missing or older than its sources, so a checkout always runs what it holds.
//   node server/build/ensureBuilt.mjs        before `pnpm start`: the standalone service
//                                            (`server/dist/bin/`, the runtime only, no type
//                                            checker) and the web console (`console/dist/`)
//   node server/build/ensureBuilt.mjs --all  before the test suites: every package (`pnpm build`)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const all = process.argv.includes('--all');

const runtime = {
  inputs: ['server/src', 'shared/src', 'emails/src', 'drizzle', 'server/tsdown.config.ts', 'tsdown.base.ts', 'pnpm-lock.yaml'],
  outputs: ['server/dist/bin/main.js'],
  command: ['--filter', '@iam/server', 'exec', 'tsdown', '--filter', 'bin', '--logLevel', 'error'],
};
const consoleApp = {
  inputs: ['console/src', 'console/index.html', 'console/vite.config.ts', 'client/src', 'shared/src', 'pnpm-lock.yaml'],
  outputs: ['console/dist/index.html'],
  command: ['--filter', '@iam/console', 'build', '--logLevel', 'warn'],
};
const everything = {
  inputs: [
    ...runtime.inputs,
    ...consoleApp.inputs,
    'client/build',
    'server/build',
    ...['shared', 'emails', 'server', 'client', 'console'].flatMap((folder) => [`${folder}/package.json`, `${folder}/tsdown.config.ts`]),
  ],
  outputs: [
    ...runtime.outputs,
    ...consoleApp.outputs,
    'server/dist/index.js',
    'shared/dist/index.js',
    'emails/dist/index.js',
    'client/dist/appRouter.d.ts',
  ],
  command: ['build'],
};

function newestChange(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestChange(path.join(entry, name)));
  return newest;
}

const inRepo = (paths) => paths.map((relative) => path.join(repoRoot, relative));

function ensure(target, quiet) {
  const builtAt = Math.min(...inRepo(target.outputs).map((output) => (existsSync(output) ? statSync(output).mtimeMs : 0)));
  const changedAt = Math.max(...inRepo(target.inputs).filter(existsSync).map(newestChange));
  if (changedAt <= builtAt) return;
  console.log(
    `${builtAt === 0 ? 'building (nothing built yet)' : 'sources changed since the last build: building'}: ${target.outputs[0]}…`,
  );
  const result = spawnSync('pnpm', target.command, { cwd: repoRoot, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    process.exit(result.status ?? 1);
  }
}

if (all) ensure(everything, true);
else {
  ensure(runtime, false);
  ensure(consoleApp, false);
}
