// `prepack` of each published package: copies the repository's LICENSE (and, for the server,
// NOTICE with the attributions its bundled data requires) into the package folder, so every
// tarball carries them without a second copy in the repository.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
for (const name of process.argv.slice(2)) copyFileSync(path.join(repoRoot, name), path.join(process.cwd(), name));
