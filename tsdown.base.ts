import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UserConfig } from 'tsdown';

/**
 * What every package's build shares: ES modules for Node ≥ 20.19, source maps, and one bundled
 * declaration file per entry, emitted by the TypeScript compiler the repository type-checks with
 * (TypeScript 7's native `tsc`) and rolled up by tsdown.
 */
const typescriptRoot = path.dirname(createRequire(import.meta.url).resolve('typescript/package.json'));
const { default: typescriptExecutable } = (await import(pathToFileURL(path.join(typescriptRoot, 'lib/getExePath.js')).href)) as {
  default: () => string;
};

export const packageBuild = {
  format: 'esm',
  target: 'node20.19',
  outDir: 'dist',
  // `.js` and `.d.ts`: every package is `"type": "module"`.
  fixedExtension: false,
  sourcemap: true,
  clean: true,
  // The package's sources only (its tsconfig.json also covers config files and tests).
  tsconfig: 'tsconfig.build.json',
  dts: { tsgo: { path: typescriptExecutable() } },
} satisfies UserConfig;
