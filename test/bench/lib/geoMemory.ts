import path from 'node:path';
import type { GeoMemorySample } from '../workers/geo';
import { startChild } from './child';
import { round } from './stats';

/** What the geolocation data costs a process, measured in processes of its own. */
export interface GeoMemoryReport {
  /** A node process with the benchmark's TypeScript loader that loads nothing. */
  baseline_rss_mb: number;
  /** A process that has loaded `@iam/server`, before and after its first `lookupGeo`. */
  before_lookup_rss_mb: number;
  after_first_lookup_rss_mb: number;
  /** after − before: the GeoLite2 City databases held in memory. */
  geo_data_mb: number;
  /** geo_data_mb / baseline_rss_mb. */
  geo_data_to_baseline: number;
  first_lookup_ms: number;
  lookups_per_second: number;
}

export async function measureGeoMemory(benchDir: string): Promise<GeoMemoryReport> {
  const script = path.join(benchDir, 'workers/geo.ts');
  const baseline = await startChild<{ mode: string }>(script, { BENCH_GEO: 'baseline' });
  const { rssMb } = await baseline.call<{ rssMb: number }>('sample').finally(() => baseline.stop());
  const geo = await startChild<{ mode: string }>(script, { BENCH_GEO: 'lookup' });
  const sample = await geo.call<GeoMemorySample>('sample').finally(() => geo.stop());
  const dataMb = sample.rssAfterMb - sample.rssBeforeMb;
  return {
    baseline_rss_mb: round(rssMb),
    before_lookup_rss_mb: round(sample.rssBeforeMb),
    after_first_lookup_rss_mb: round(sample.rssAfterMb),
    geo_data_mb: round(dataMb),
    geo_data_to_baseline: round(dataMb / rssMb),
    first_lookup_ms: round(sample.firstLookupMs),
    lookups_per_second: round(sample.lookupsPerSecond),
  };
}

/** The section's lines in the Markdown report. */
export function geoMemoryMarkdown(geo: GeoMemoryReport): string[] {
  return [
    '',
    '| geolocation data (own processes) | value |',
    '|---|---:|',
    `| baseline process RSS (loads nothing), MB | ${geo.baseline_rss_mb} |`,
    `| with @iam/server loaded, before the first lookupGeo, MB | ${geo.before_lookup_rss_mb} |`,
    `| after the first lookupGeo, MB | ${geo.after_first_lookup_rss_mb} |`,
    `| **geo data, MB** (after − before) | **${geo.geo_data_mb}** |`,
    `| geo data / baseline process | ${geo.geo_data_to_baseline} |`,
    `| first lookup (opens the databases), ms | ${geo.first_lookup_ms} |`,
    `| lookups/s afterwards | ${geo.lookups_per_second} |`,
  ];
}
