import { defineConfig } from 'tsdown';
import { packageBuild } from '../tsdown.base';

export default defineConfig({
  ...packageBuild,
  entry: ['src/index.ts'],
  // Browsers and Node alike.
  platform: 'neutral',
  // The router's types only: `build/routerDeclarations.ts` replaces this import with a declaration of its own.
  deps: { neverBundle: ['@iam/server'] },
});
