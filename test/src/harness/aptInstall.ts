import { execFile } from 'node:child_process';
import { access, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The first of `candidates` that exists, or null. */
export async function firstExisting(candidates: readonly string[]): Promise<string | null> {
  for (const candidate of candidates) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

export interface AptTool {
  /** Where the program may be, in order. */
  candidates: readonly string[];
  aptPackage: string;
  keepServicesDown?: boolean;
}

const lookups = new Map<string, Promise<string>>();

/**
 * A program the tests need from Debian: the first of `candidates` that exists or, when none
 * does, `aptPackage` installed with apt-get (running as root only, as the embedded database's
 * packages are; the package lists are refreshed once when the install fails). `keepServicesDown`:
 * the package's maintainer scripts may not start its service (a `policy-rc.d` that refuses
 * every start is put in place for the install when the system has none), so installing a tool
 * never leaves a daemon running.
 */
export function findOrInstall(input: AptTool): Promise<string> {
  // One look (and at most one install) per package and process, however many tests ask at once.
  let pending = lookups.get(input.aptPackage);
  if (!pending) {
    pending = findOrInstallOnce(input);
    lookups.set(input.aptPackage, pending);
    pending.catch(() => lookups.delete(input.aptPackage));
  }
  return pending;
}

async function findOrInstallOnce(input: AptTool): Promise<string> {
  const found = await firstExisting(input.candidates);
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`${input.aptPackage} is not installed: apt-get install ${input.aptPackage}`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = input.keepServicesDown === true && (await firstExisting([policy])) === null;
  if (ownPolicy)
    await writeFile(policy, '#!/bin/sh\n# Put here by the tests while a package installs: no service starts.\nexit 101\n', { mode: 0o755 });
  // Suites run in parallel: one install waits for another's dpkg lock instead of failing on it.
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
        input.aptPackage,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  try {
    await install().catch(async () => {
      await run('apt-get', ['update'], { maxBuffer: 64 * 1024 * 1024 });
      await install();
    });
  } finally {
    if (ownPolicy) await rm(policy, { force: true });
  }
  const installed = await firstExisting(input.candidates);
  if (!installed) throw new Error(`apt-get installed ${input.aptPackage}, but none of ${input.candidates.join(', ')} exists`);
  return installed;
}
