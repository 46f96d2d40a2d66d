import { defineConfig } from 'tsdown';
import { packageBuild } from '../tsdown.base';

export default defineConfig([
  {
    // The library: `@iam/server` and `@iam/server/standalone`, over the published `@iam/shared` and `@iam/emails`.
    ...packageBuild,
    name: 'library',
    entry: { index: 'src/index.ts', standalone: 'src/standalone/library.ts' },
    platform: 'node',
    // Not dist/bin: a service started from it may be running (and loads its chunks lazily).
    clean: ['dist/*', '!dist/bin'],
    copy: [{ from: '../drizzle', to: 'dist' }],
  },
  {
    // The processes `pnpm start`, `pnpm iam` and `pnpm db:migrate` run: the workspace packages
    // bundled in, so a checkout runs them with `node` without building those packages first.
    ...packageBuild,
    name: 'bin',
    clean: false,
    dts: false,
    entry: { main: 'src/standalone/main.ts', cli: 'src/standalone/cli.ts', migrate: 'src/standalone/migrate.ts' },
    outDir: 'dist/bin',
    platform: 'node',
    deps: { alwaysBundle: [/^@iam\//] },
  },
]);
