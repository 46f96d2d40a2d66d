/**
 * The client reports a session that ended under the page (signed out elsewhere, revoked by an
 * admin, expired): the session state listens and shows the sign-in page.
 */
const target = new EventTarget();

export function sessionEnded(): void {
  target.dispatchEvent(new Event('ended'));
}

export function onSessionEnded(listener: () => void): () => void {
  target.addEventListener('ended', listener);
  return () => target.removeEventListener('ended', listener);
}
