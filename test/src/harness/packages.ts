import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './standalone';

const run = promisify(execFile);

/** The packages a project outside this repository installs, by name, as packed tarballs. */
export type PackedPackages = Record<'@iam/shared' | '@iam/emails' | '@iam/server' | '@iam/client', string>;

const packageFolders = { '@iam/shared': 'shared', '@iam/emails': 'emails', '@iam/server': 'server', '@iam/client': 'client' } as const;

/**
 * The environment of a package-manager run that is not this repository's: nothing of the
 * `pnpm test` that started it (its `npm_config_*`, its workspace) leaks in.
 */
export function outsideEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|INIT_CWD|VITEST|NODE_OPTIONS)/i.test(key)) env[key] = value;
  }
  return env;
}

/** `pnpm pack` of every published package into `destination`, from the run's build (the global set-up's `pnpm build`). */
export async function packPackages(destination: string): Promise<PackedPackages> {
  for (const folder of Object.values(packageFolders)) {
    await run('pnpm', ['pack', '--pack-destination', destination], { cwd: path.join(repoRoot, folder), env: outsideEnv() });
  }
  const files = await readdir(destination);
  const tarballOf = (name: string) => {
    const prefix = `${name.replace('@', '').replace('/', '-')}-`;
    const file = files.find((candidate) => candidate.startsWith(prefix) && candidate.endsWith('.tgz'));
    if (!file) throw new Error(`no tarball for ${name} in ${files.join(', ')}`);
    return path.join(destination, file);
  };
  return {
    '@iam/shared': tarballOf('@iam/shared'),
    '@iam/emails': tarballOf('@iam/emails'),
    '@iam/server': tarballOf('@iam/server'),
    '@iam/client': tarballOf('@iam/client'),
  };
}

/**
 * A project of its own in `directory` (outside the repository): its package.json, the given
 * files, and `pnpm install` (the local store first, the registry for anything missing). The
 * packed packages are installed from their tarballs, the ones they depend on among themselves
 * too (`pnpm.overrides`), as a registry would serve them.
 */
export async function createOutsideProject(
  directory: string,
  options: {
    packages: PackedPackages;
    dependencies: Record<string, string>;
    devDependencies?: Record<string, string>;
    files: Record<string, string>;
    onlyBuiltDependencies?: string[];
  },
): Promise<void> {
  const overrides = Object.fromEntries(Object.entries(options.packages).map(([name, tarball]) => [name, `file:${tarball}`]));
  const manifest = {
    name: 'outside-project',
    private: true,
    type: 'module',
    dependencies: options.dependencies,
    devDependencies: options.devDependencies ?? {},
    pnpm: { overrides, onlyBuiltDependencies: options.onlyBuiltDependencies ?? [] },
  };
  await writeFile(path.join(directory, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(options.files)) await writeFile(path.join(directory, name), text);
  await run('pnpm', ['install', '--prefer-offline', '--reporter=silent', '--config.confirmModulesPurge=false'], {
    cwd: directory,
    env: outsideEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Runs a command in the project; its output, and the exit code (0 when it succeeded). */
export async function runIn(directory: string, command: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: directory, env: outsideEnv(), maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
