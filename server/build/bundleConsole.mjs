// `prepack` of @iam/server: the built web console (`console/dist/`) goes inside the package as
// `dist/console/`, where the service finds it when it runs from node_modules.
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const built = path.join(repoRoot, 'console/dist');
if (!existsSync(path.join(built, 'index.html'))) {
  console.error('the console is not built: run pnpm build first');
  process.exit(1);
}
const target = path.join(repoRoot, 'server/dist/console');
rmSync(target, { recursive: true, force: true });
// The source maps stay out of the package.
cpSync(built, target, { recursive: true, filter: (source) => !source.endsWith('.map') });
