/** Dates, devices and places the way the pages say them. */

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
];

/** "2 minutes ago", "yesterday"; past a week, the date itself. */
export function formatAgo(at: Date, now = new Date()): string {
  let amount = (at.getTime() - now.getTime()) / 1000;
  if (Math.abs(amount) < 45) return 'just now';
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return absolute.format(at);
}

export function formatDateTime(at: Date): string {
  return absolute.format(at);
}

let regionNames: Intl.DisplayNames | undefined;

/** A country code as its name ("DE" → "Germany"), or the code when the browser has no name for it. */
export function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(undefined, { type: 'region' });
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function describeDevice(device: { browser: string | null; os: string | null; type: string }): string {
  if (device.browser && device.os) return `${device.browser} on ${device.os}`;
  return device.browser ?? device.os ?? 'Unknown device';
}

export function describeLocation(location: { country: string | null; region: string | null; city: string | null } | null): string {
  const place = [location?.city, location?.country ? countryName(location.country) : null].filter(Boolean).join(', ');
  return place || 'Unknown location';
}
