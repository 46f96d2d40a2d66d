/**
 * The uniqueness key of an address: trimmed, Unicode NFC, lowercased whole (RFC 5321 lets
 * the local part be case-sensitive, but no real provider treats it so, and two accounts that
 * differ only by case invite takeover by confusion). Dots and `+tags` are kept: they are
 * distinct mailboxes at most providers. Compared with a binary collation, so `jose` and
 * `josé` stay distinct.
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** `j•••@example.com`, for messages about an address that must not reveal it whole. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}
