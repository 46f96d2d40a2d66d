import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The floors of the server are held by the lint configuration (biome.json), and `pnpm lint`
// is part of `pnpm test`. These probes break one rule each in a file placed on the floor the
// rule guards, and check that `biome lint` refuses it with that rule.
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const biome = path.join(repoRoot, 'node_modules', '.bin', 'biome');
const run = promisify(execFile);
const probeDirs: string[] = [];

afterAll(async () => {
  await Promise.all(probeDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Writes the files under a fresh folder inside `floor`, lints them, and returns the rules that fired. */
async function lintProbe(floor: string, files: Record<string, string>): Promise<string[]> {
  const dir = path.join(repoRoot, floor, `lintProbe${randomBytes(4).toString('hex')}`);
  probeDirs.push(dir);
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(path.join(dir, name), text)));
  try {
    await run(biome, ['lint', '--colors=off', dir], { cwd: repoRoot });
    return [];
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    return [...new Set([...output.matchAll(/lint\/\w+\/(\w+)/g)].map((match) => match[1] ?? ''))].sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the lint configuration holds the floors', () => {
  it('passes a component that imports only what lies below it', async () => {
    const rules = await lintProbe('server/src/modules', {
      'probe.ts': "import { sha256Hex } from '../../crypto/hash';\n\nexport const probe = (text: string): string => sha256Hex(text);\n",
    });
    expect(rules).toEqual([]);
  });

  it('refuses express, tRPC and the http/ floor inside modules/', async () => {
    const rules = await lintProbe('server/src/modules', {
      'probe.ts':
        "import { TRPCError } from '@trpc/server';\nimport express from 'express';\nimport { sendJsonError } from '../../../http/errorEnvelope';\n\nexport const probe = [express, sendJsonError, TRPCError];\n",
    });
    expect(rules).toEqual(['noRestrictedImports']);
  });

  it('refuses the Services bag and the flows of modules/auth/ inside a component', async () => {
    const rules = await lintProbe('server/src/modules/users', {
      'probe.ts': "import type { Services } from '../../auth/services';\n\nexport type Probe = Services;\n",
    });
    expect(rules).toEqual(['noRestrictedImports']);
  });

  it('refuses modules/ inside db/', async () => {
    const rules = await lintProbe('server/src/db', {
      'probe.ts': "import { systemClock } from '../../modules/clock';\n\nexport const probe = systemClock;\n",
    });
    expect(rules).toEqual(['noRestrictedImports']);
  });

  it('refuses process.env outside the env module', async () => {
    const rules = await lintProbe('server/src/modules', { 'probe.ts': 'export const probe = process.env.PORT;\n' });
    expect(rules).toEqual(['noProcessEnv']);
  });

  it('refuses an import cycle', async () => {
    const rules = await lintProbe('server/src/modules', {
      'a.ts': "import { b } from './b';\n\nexport const a = (): unknown => b;\n",
      'b.ts': "import { a } from './a';\n\nexport const b = (): unknown => a;\n",
    });
    expect(rules).toEqual(['noImportCycles']);
  });

  it('refuses a value import of the server in the client', async () => {
    const rules = await lintProbe('client/src', {
      'probe.ts': "import { createIamServer } from '@iam/server';\n\nexport const probe = createIamServer;\n",
    });
    expect(rules).toEqual(['noRestrictedImports']);
  });
});
