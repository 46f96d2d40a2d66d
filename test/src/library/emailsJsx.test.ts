import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));
// A tsconfig the host hands esbuild (tsconfigRaw) applies to every file, the packages' sources too.
// Resolved as a host resolves them: the templates' sources, not a build of them.
const emailsEntry = createRequire(path.join(repositoryRoot, 'test', 'package.json')).resolve('@iam/emails');
const tsxLoader = pathToFileURL(createRequire(path.join(repositoryRoot, 'package.json')).resolve('tsx')).href;

/** The host's program: renders every template and prints what came out. */
const hostProgram = [
  `import { previewEmails, renderEmail } from ${JSON.stringify(emailsEntry)};`,
  'void (async () => {',
  '  const results = [];',
  '  for (const email of previewEmails()) {',
  '    const { subject, html } = await renderEmail(email);',
  '    results.push({ template: email.template, subject, html });',
  '  }',
  '  process.stdout.write(JSON.stringify(results));',
  '})().catch((error) => { console.error(String(error)); process.exit(1); });',
].join('\n');

type Rendered = Array<{ template: string; subject: string; html: string }>;

/** Bundles the host's program with the host's esbuild JSX options and runs it in a child node process. */
async function renderBundled(
  dir: string,
  options: Pick<BuildOptions, 'jsx' | 'jsxFactory' | 'jsxFragment' | 'tsconfigRaw'>,
): Promise<Rendered> {
  const entry = path.join(dir, 'entry.ts');
  await writeFile(entry, hostProgram);
  const outfile = path.join(dir, 'out.cjs');
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', ...options });
  const { stdout } = await run(process.execPath, [outfile], { cwd: dir });
  return JSON.parse(stdout) as Rendered;
}

/** Runs the host's program under tsx with the host's own tsconfig, which tsx applies to the imported sources too. */
async function renderWithTsx(dir: string, compilerOptions: Record<string, unknown>): Promise<Rendered> {
  const entry = path.join(dir, 'entry.ts');
  await writeFile(entry, hostProgram);
  const tsconfig = path.join(dir, 'tsconfig.json');
  await writeFile(tsconfig, JSON.stringify({ compilerOptions }));
  const { stdout } = await run(process.execPath, ['--import', tsxLoader, entry], {
    cwd: dir,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
  return JSON.parse(stdout) as Rendered;
}

const hosts: Array<{ name: string; render: (dir: string) => Promise<Rendered> }> = [
  {
    name: "esbuild with jsx: 'transform' (classic React.createElement, no React in scope)",
    render: (dir) => renderBundled(dir, { jsx: 'transform', tsconfigRaw: { compilerOptions: { jsx: 'react' } } }),
  },
  {
    name: 'esbuild with a classic factory of another library (h, Fragment)',
    render: (dir) =>
      renderBundled(dir, {
        jsx: 'transform',
        jsxFactory: 'h',
        jsxFragment: 'Fragment',
        tsconfigRaw: { compilerOptions: { jsx: 'react', jsxFactory: 'h', jsxFragmentFactory: 'Fragment' } },
      }),
  },
  { name: "esbuild with jsx: 'automatic'", render: (dir) => renderBundled(dir, { jsx: 'automatic' }) },
  { name: "tsx with the host's tsconfig jsx: 'react'", render: (dir) => renderWithTsx(dir, { jsx: 'react' }) },
];

/**
 * A host that imports the packages from source compiles the templates with its own JSX setting
 * (its tsx, its tsconfig, its bundler). The templates must render whatever that setting is.
 */
describe('the email templates under the host’s JSX setting', () => {
  for (const host of hosts) {
    it(`render when compiled by ${host.name}`, async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'iam-emails-jsx-'));
      try {
        const results = await host.render(dir);
        expect(results.map((result) => result.template)).toContain('verify_email');
        for (const { subject, html } of results) {
          expect(subject).not.toBe('');
          expect(html).toMatch(/^<!DOCTYPE html/);
          expect(html).toContain('</html>');
        }
        expect(results.find((result) => result.template === 'verify_email')?.html).toContain('Verify your email address');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
