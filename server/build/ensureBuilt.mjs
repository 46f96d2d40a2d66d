// Builds what is missing or older than its sources, so a checkout always runs what it holds.
//   node server/build/ensureBuilt.mjs        before `pnpm start`: the standalone service
//                                            (`server/dist/bin/`, the runtime only, no type checker)
//   node server/build/ensureBuilt.mjs --all  before the test suites: every package (`pnpm build`)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const all = process.argv.includes('--all');

const runtimeInputs = ['server/src', 'shared/src', 'emails/src', 'drizzle', 'server/tsdown.config.ts', 'tsdown.base.ts', 'pnpm-lock.yaml'];
const packageInputs = [
  'client/src',
  'client/build',
  'server/build',
  ...['shared', 'emails', 'server', 'client'].flatMap((folder) => [`${folder}/package.json`, `${folder}/tsdown.config.ts`]),
];
const inputs = all ? [...runtimeInputs, ...packageInputs] : runtimeInputs;
const outputs = all
  ? ['server/dist/bin/main.js', 'server/dist/index.js', 'shared/dist/index.js', 'emails/dist/index.js', 'client/dist/appRouter.d.ts']
  : ['server/dist/bin/main.js'];

function newestChange(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestChange(path.join(entry, name)));
  return newest;
}

const inRepo = (paths) => paths.map((relative) => path.join(repoRoot, relative));
const builtAt = Math.min(...inRepo(outputs).map((output) => (existsSync(output) ? statSync(output).mtimeMs : 0)));
const changedAt = Math.max(...inRepo(inputs).filter(existsSync).map(newestChange));
if (changedAt > builtAt) {
  console.log(builtAt === 0 ? 'building (nothing built yet)…' : 'sources changed since the last build: building…');
  const command = all ? ['build'] : ['--filter', '@iam/server', 'exec', 'tsdown', '--filter', 'bin', '--logLevel', 'error'];
  const result = spawnSync('pnpm', command, { cwd: repoRoot, stdio: all ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (result.status !== 0) {
    if (all) process.stderr.write(`${result.stdout}${result.stderr}`);
    process.exit(result.status ?? 1);
  }
}
