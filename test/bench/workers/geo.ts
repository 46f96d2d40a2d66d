// The resident memory the geolocation data costs: this process, with `BENCH_GEO=lookup`, loads
// `@iam/server`, then makes its first `lookupGeo` (which reads the GeoLite2 City databases),
// and reports its RSS before and after; with `BENCH_GEO=baseline` it loads nothing and reports
// its RSS, for scale. Garbage is collected before each reading.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serveCommands } from '../lib/child';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const megabytes = (bytes: number) => bytes / 1024 ** 2;

function rssInMb(): number {
  gc();
  gc();
  return megabytes(process.memoryUsage().rss);
}

export interface GeoMemorySample {
  rssBeforeMb: number;
  rssAfterMb: number;
  firstLookupMs: number;
  lookupsPerSecond: number;
}

async function sampleLookup(): Promise<GeoMemorySample> {
  const { lookupGeo } = await import('@iam/server');
  const rssBeforeMb = rssInMb();
  const started = performance.now();
  if (lookupGeo('8.8.8.8')?.country !== 'US') throw new Error('lookupGeo did not place 8.8.8.8 in the US');
  const firstLookupMs = performance.now() - started;
  const rssAfterMb = rssInMb();
  // Lookup speed over addresses spread across the IPv4 space, for a second.
  let lookups = 0;
  const until = performance.now() + 1_000;
  for (let i = 1; performance.now() < until; i++) {
    for (let j = 0; j < 1_000; j++, lookups++) lookupGeo(`${((i * 7 + j) % 223) + 1}.${j % 256}.${(i * 13) % 256}.${(j * 31) % 256}`);
  }
  return { rssBeforeMb, rssAfterMb, firstLookupMs, lookupsPerSecond: lookups };
}

const mode = process.env.BENCH_GEO === 'lookup' ? 'lookup' : 'baseline';
serveCommands(
  { mode },
  {
    sample: async () => (mode === 'lookup' ? sampleLookup() : { rssMb: rssInMb() }),
  },
);
