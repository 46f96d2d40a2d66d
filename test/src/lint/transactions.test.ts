import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const serverSource = fileURLToPath(new URL('../../../server/src', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('transactions', () => {
  // Every transaction is retried whole on a deadlock, a lock wait timeout or a cluster's
  // certification failure (runTransaction in db/client.ts), so no race answers 500: a bare
  // `db.transaction(…)` anywhere else would not be.
  it('are all opened through runTransaction', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(serverSource)) {
      if (path.relative(serverSource, file) === path.join('db', 'client.ts')) continue;
      const text = await readFile(file, 'utf8');
      for (const [index, line] of text.split('\n').entries()) {
        if (/\.transaction\(/.test(line)) offenders.push(`${path.relative(serverSource, file)}:${index + 1}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
