// Loaded into the measured service with `node --import` (through NODE_OPTIONS, by measure.ts):
// on SIGUSR2 it writes what only the process itself can see (process.memoryUsage(), V8's heap
// spaces, and optionally a heap snapshot) as JSON to MEMORY_PROBE_OUT. The service's own code
// is untouched; SIGUSR2 is unused by it and by Node unless --heapsnapshot-signal names it.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

const out = process.env.MEMORY_PROBE_OUT;
if (out) {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  process.on('SIGUSR2', () => {
    // A full collection first, so the figures are what is live rather than what awaits collection.
    gc();
    const memory = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]));
    const snapshot = process.env.MEMORY_PROBE_SNAPSHOT ? v8.writeHeapSnapshot(process.env.MEMORY_PROBE_SNAPSHOT) : undefined;
    writeFileSync(out, JSON.stringify({ at: Date.now(), memory, spaces, snapshot }));
  });
}
