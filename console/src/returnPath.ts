/**
 * Where a page that needs a signed-in user sends the person back once they have signed in
 * (e.g. the invitation link): kept in memory only, so a link's token never lands in storage.
 */
let pending: string | null = null;

/** A path inside the console (`/…`, never another origin). */
export function returnAfterSignIn(path: string): void {
  pending = path.startsWith('/') && !path.startsWith('//') ? path : null;
}

export function afterSignInPath(): string {
  return pending ?? '/';
}

export function clearReturnPath(): void {
  pending = null;
}
