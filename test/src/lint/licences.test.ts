import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyLicence, licenceOf, licenceProblem, productionPackages, reviewedLicences } from './licencePolicy';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const scratch: string[] = [];

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the licence classifier', () => {
  it.each([
    ['MIT', 'permissive'],
    ['Apache-2.0', 'permissive'],
    ['(MIT OR GPL-3.0)', 'permissive'],
    ['(MIT OR Apache-2.0)', 'permissive'],
    ['MIT AND ISC', 'permissive'],
    ['(MIT AND Zlib) OR GPL-2.0', 'permissive'],
    ['AGPL-3.0-or-later', 'strong-copyleft'],
    ['AGPL-3.0', 'strong-copyleft'],
    ['GPL-2.0+', 'strong-copyleft'],
    ['GPL-3.0-only', 'strong-copyleft'],
    ['SSPL-1.0', 'strong-copyleft'],
    ['(MIT AND GPL-3.0)', 'strong-copyleft'],
    ['MIT AND (GPL-2.0 OR AGPL-3.0)', 'strong-copyleft'],
    ['GPL-2.0-only WITH Classpath-exception-2.0', 'strong-copyleft'],
    ['LGPL-3.0-or-later', 'weak-copyleft'],
    ['(LGPL-2.1 OR MIT)', 'permissive'],
    ['MPL-2.0', 'weak-copyleft'],
    ['CC-BY-SA-4.0', 'weak-copyleft'],
    ['SEE LICENSE IN LICENSE.md', 'unknown'],
    ['UNLICENSED', 'unknown'],
    ['Proprietary', 'unknown'],
    ['MIT OR', 'unknown'],
    ['(MIT', 'unknown'],
    ['', 'unknown'],
  ] as const)('%s is %s', (expression, expected) => {
    expect(classifyLicence(expression)).toBe(expected);
  });

  it('reads the legacy licence forms', () => {
    expect(licenceOf({ license: { type: 'MIT' } })).toBe('MIT');
    expect(licenceOf({ licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] })).toBe('(MIT OR GPL-2.0)');
    expect(licenceOf({})).toBeNull();
  });

  it('refuses copyleft and unreviewed licences by name, even for a reviewed package', () => {
    const via = '@iam/server';
    expect(licenceProblem({ name: 'ua-parser-js', version: '2.0.0', licence: 'AGPL-3.0-or-later', via })).toMatch(
      /^ua-parser-js@2\.0\.0 \(AGPL-3\.0-or-later, via @iam\/server\): strong copyleft/,
    );
    expect(licenceProblem({ name: 'left-pad', version: '1.0.0', licence: null, via })).toMatch(
      /no licence field.*not in the reviewed list/,
    );
    expect(licenceProblem({ name: 'some-lgpl', version: '1.0.0', licence: 'LGPL-3.0', via })).toMatch(
      /weak-copyleft licence, not in the reviewed list/,
    );
    expect(
      licenceProblem({
        name: '@ip-location-db/asn',
        version: '9.0.0',
        licence: reviewedLicences['@ip-location-db/asn']?.licence ?? '',
        via,
      }),
    ).toMatch(/review this version/);
    expect(licenceProblem({ name: '@ip-location-db/asn', version: '2.3.1', licence: 'GPL-3.0', via })).toMatch(/strong copyleft/);
    expect(licenceProblem({ name: 'tiny', version: '1.0.0', licence: 'ISC', via })).toBeNull();
  });
});

describe('the installed tree walk', () => {
  it('follows dependencies, installed optional and peer dependencies, and names the path to each', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'licences-'));
    scratch.push(root);
    const write = async (directory: string, manifest: object) => {
      await mkdir(directory, { recursive: true });
      await writeFile(path.join(directory, 'package.json'), JSON.stringify(manifest));
    };
    await write(root, { name: 'app', private: true, dependencies: { a: '1' }, devDependencies: { dev: '1' } });
    await write(path.join(root, 'node_modules', 'a'), {
      name: 'a',
      version: '1.0.0',
      license: 'MIT',
      dependencies: { b: '1' },
      optionalDependencies: { gone: '1' },
    });
    await write(path.join(root, 'node_modules', 'a', 'node_modules', 'b'), {
      name: 'b',
      version: '2.0.0',
      license: 'GPL-3.0',
      peerDependencies: { c: '1' },
    });
    await write(path.join(root, 'node_modules', 'c'), { name: 'c', version: '3.0.0' });
    await write(path.join(root, 'node_modules', 'dev'), { name: 'dev', version: '1.0.0', license: 'AGPL-3.0' });

    const shipped = productionPackages(root);
    expect(shipped.map(({ name, version, via }) => `${name}@${version} via ${via}`)).toEqual([
      'a@1.0.0 via app',
      'b@2.0.0 via app > a',
      'c@3.0.0 via app > a > b',
    ]);
    expect(shipped.map(licenceProblem).filter(Boolean)).toEqual([
      'b@2.0.0 (GPL-3.0, via app > a): strong copyleft is not allowed in what the packages ship',
      'c@3.0.0 (no licence field, via app > a > b): unknown licence, not in the reviewed list',
    ]);
  });

  it('throws when a required dependency is not installed', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'licences-'));
    scratch.push(root);
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { missing: '1' } }));
    expect(() => productionPackages(root)).toThrow(/missing \(needed by app\) is not installed/);
  });
});

describe.each(['server', 'client'])('the production dependencies of @iam/%s', (packageDirectory) => {
  const shipped = productionPackages(path.join(repoRoot, packageDirectory));

  it('are found in the installed tree', () => {
    // A walk that found nothing would pass every licence check.
    expect(shipped.length).toBeGreaterThan(packageDirectory === 'server' ? 100 : 20);
    expect(shipped.map((entry) => entry.name)).toContain('@trpc/server');
  });

  it('carry no copyleft and no unreviewed licence', () => {
    expect(shipped.map(licenceProblem).filter(Boolean)).toEqual([]);
  });
});

it('every reviewed entry is still shipped, so the list does not outlive its packages', () => {
  const names = new Set(
    ['server', 'client'].flatMap((directory) => productionPackages(path.join(repoRoot, directory)).map((entry) => entry.name)),
  );
  expect(Object.keys(reviewedLicences).filter((name) => !names.has(name))).toEqual([]);
});
