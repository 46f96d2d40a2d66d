import { createHash } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';
import type { Logger } from 'pino';
import { IamError } from '../errors/iamError';

/**
 * Whether the breached-password service was asked: it answered and the password is not in it,
 * it could not be reached (the offline checks still applied), or no service is configured.
 */
export type PasswordCheckResult = { breachCheck: 'clean' | 'unavailable' | 'skipped' };

export interface PasswordPolicy {
  /**
   * Resolves when the password may be set; throws `PASSWORD_TOO_WEAK` (length, a common
   * password, a context word, repeated or sequential characters) or `PASSWORD_BREACHED`.
   */
  check(password: string, context?: { email?: string; name?: string }): Promise<PasswordCheckResult>;
}

export interface PasswordPolicyOptions {
  /** In code points after NFKC. NIST SP 800-63B-4 §3.1.1.2: at least 8, and 15 when the password is the only factor. */
  minLength: number;
  /** In code points after NFKC. NIST SP 800-63B-4 §3.1.1.2: permit at least 64. */
  maxLength: number;
  /** The service's name, refused as a password word (NIST SP 800-63B-4 §3.1.1.2: context-specific words). */
  productName: string;
  /** Base of the Pwned Passwords range API (`HIBP_API_URL`); null skips the online check. */
  hibpApiUrl: string | null;
  timeoutInMs?: number;
  /** Further words refused alone or with digits and symbols around them (the company's name, …). */
  extraBlockedWords?: string[];
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Called every time the breached-password service could not be asked (e.g. to count it in metrics). */
  onBreachCheckUnavailable?: () => void;
}

const defaultTimeoutInMs = 1_500;

// Words a person reaches for when asked for a password; refused alone or with digits and symbols.
const passwordWords = [
  'password',
  'passwort',
  'passwd',
  'motdepasse',
  'contrasena',
  'contraseña',
  'senha',
  'parola',
  'wachtwoord',
  'letmein',
  'welcome',
  'changeme',
  'admin',
  'administrator',
  'login',
  'secret',
  'qwerty',
  'qwertz',
  'azerty',
];

// Rows of common keyboard layouts and the digit row, for "sequential" passwords such as `asdfghjk`.
const keyboardRows = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'qwertzuiop', 'yxcvbnm', 'azertyuiop', 'qsdfghjklm', 'wxcvbn'];

// A context word shorter than this is too common a fragment to refuse a password over.
const minContextWordLength = 3;

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * Passwords known to be commonly used (NIST SP 800-63B-4 §3.1.1.2 blocklist): the ~49 k of the
 * `@zxcvbn-ts/language-common` package (updated by bumping it), lowercase, loaded once per process.
 */
function loadCommonPasswords(): ReadonlySet<string> {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((password) => password.normalize('NFKC').toLowerCase()));
  return commonPasswords;
}

/**
 * Password verifier rules of NIST SP 800-63B-4 §3.1.1.2 (§5.1.1.2, memorized secrets, in
 * revision 3): length bounds counted in Unicode code points after NFKC normalisation, no
 * composition rules, and a refusal of passwords that are commonly used, made of repetitive or
 * sequential characters, built on context-specific words (the user's name and email, the
 * service's name), or found in breach corpuses. The breach
 * check asks the Pwned Passwords range API with k-anonymity (only the first 5 hex digits of
 * the SHA-1 leave the process) and response padding; when it cannot be asked, the offline
 * checks still hold and the outage is logged and counted, never silent.
 */
export function createPasswordPolicy(options: PasswordPolicyOptions): PasswordPolicy {
  const { minLength, maxLength } = options;
  if (!Number.isInteger(minLength) || !Number.isInteger(maxLength) || minLength < 1 || maxLength < minLength) {
    throw new Error(`password policy: invalid length bounds ${minLength}..${maxLength}`);
  }
  const common = loadCommonPasswords();
  const fixedWords = new Set<string>();
  for (const word of [...passwordWords, ...(options.extraBlockedWords ?? []), options.productName]) addContextWords(fixedWords, word);
  const breachCheck = options.hibpApiUrl === null ? null : createBreachCheck(options.hibpApiUrl, options.timeoutInMs ?? defaultTimeoutInMs);

  const reportUnavailable = (details: Record<string, unknown>): void => {
    // Neither the password nor any part of its hash is logged.
    options.logger.warn(details, 'breached-password check unavailable; offline checks applied');
    try {
      options.onBreachCheckUnavailable?.();
    } catch (error) {
      options.logger.warn({ err: error }, 'onBreachCheckUnavailable hook failed');
    }
  };

  return {
    async check(password, context = {}) {
      // A cheap bound before normalising: NFKC composition shrinks a string by a few code points per character at most.
      if (password.length > maxLength * 8) throw weak(`Use at most ${maxLength} characters.`);
      const normalized = password.normalize('NFKC');
      const length = codePoints(normalized).length;
      if (length < minLength) throw weak(`Use at least ${minLength} characters.`);
      if (length > maxLength) throw weak(`Use at most ${maxLength} characters.`);

      const lower = normalized.toLowerCase();
      if (common.has(lower)) throw weak('This password is too common; choose another.');
      const words = new Set(fixedWords);
      addUserWords(words, context);
      if (words.has(lower) || words.has(letterCore(lower))) {
        throw weak('Avoid your name, your email address or the name of the service in the password.');
      }
      if (isRepetitiveOrSequential(lower)) throw weak('Avoid repeated or sequential characters.');

      if (!breachCheck) return { breachCheck: 'skipped' };
      // The raw form too, when NFKC changed it: breach corpuses hold what people typed.
      const candidates = normalized === password ? [normalized] : [normalized, password];
      const outcomes = await Promise.all(candidates.map(breachCheck));
      if (outcomes.some(({ outcome }) => outcome === 'breached')) throw new IamError('PASSWORD_BREACHED');
      const failure = outcomes.find((result) => result.outcome === 'unavailable');
      if (!failure) return { breachCheck: 'clean' };
      reportUnavailable(failure.details);
      return { breachCheck: 'unavailable' };
    },
  };
}

function weak(message: string): IamError {
  return new IamError('PASSWORD_TOO_WEAK', { message });
}

type BreachOutcome = { outcome: 'breached' | 'clean' } | { outcome: 'unavailable'; details: Record<string, unknown> };

function createBreachCheck(hibpApiUrl: string, timeoutInMs: number): (password: string) => Promise<BreachOutcome> {
  // Fails at start-up on a malformed URL rather than on the first sign-up.
  const base = new URL(hibpApiUrl).href.replace(/\/+$/, '');
  const unavailable = (details: Record<string, unknown>): BreachOutcome => ({
    outcome: 'unavailable',
    details: { ...details, timeoutInMs },
  });

  return async (password) => {
    const hash = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = hash.slice(0, 5);
    const suffix = hash.slice(5);
    let body: string;
    try {
      const response = await fetch(`${base}/range/${prefix}`, {
        // Padding makes every answer 800–1,000 lines, so an observer cannot tell the range (and so the prefix) from its size.
        headers: { 'add-padding': 'true' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutInMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        return unavailable({ reason: 'status', status: response.status });
      }
      body = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return unavailable({ reason: timedOut ? 'timeout' : 'network', cause: networkCause(error) });
    }
    return { outcome: rangeContains(body, suffix) ? 'breached' : 'clean' };
  };
}

/** A `SUFFIX:COUNT` line per hash of the range; padding lines have a count of 0 and never match. */
function rangeContains(body: string, suffix: string): boolean {
  for (const line of body.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    if (line.slice(0, colon).trim().toUpperCase() !== suffix) continue;
    const count = Number.parseInt(line.slice(colon + 1).trim(), 10);
    if (count > 0) return true;
  }
  return false;
}

/** The error's name and, for fetch's `TypeError: fetch failed`, the code of its cause, e.g. `ECONNREFUSED`. */
function networkCause(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const cause = error.cause;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ? `${error.name}: ${code}` : error.name;
}

function addUserWords(words: Set<string>, context: { email?: string; name?: string }): void {
  if (context.name) addContextWords(words, context.name);
  if (context.email) {
    const email = context.email.normalize('NFKC').toLowerCase();
    const at = email.lastIndexOf('@');
    const local = at === -1 ? email : email.slice(0, at);
    addContextWords(words, local);
    addContextWords(words, local.split('+')[0] ?? '');
    if (at !== -1) {
      // The domain's labels but its top-level one: `mail.example.co.uk` gives `mail`, `example`.
      const labels = email.slice(at + 1).split('.');
      for (const label of labels.slice(0, -1)) addContextWords(words, label);
    }
  }
}

/** The word itself, without spaces, its letter core, and each of its parts (`Alice Smith` → `alice`, `smith`, `alicesmith`, …). */
function addContextWords(words: Set<string>, text: string): void {
  const lower = text.normalize('NFKC').toLowerCase().trim();
  const parts = lower.split(/[^\p{L}\p{N}]+/u);
  for (const word of [lower, parts.join(''), letterCore(lower), ...parts]) {
    if (codePoints(word).length >= minContextWordLength) words.add(word);
  }
}

/** Without the digits and symbols around it: `alice2024!` → `alice`, `!!admin42` → `admin`. */
function letterCore(text: string): string {
  return text.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
}

/**
 * Repetitive or sequential (NIST SP 800-63B rev. 3 §5.1.1.2: `aaaaaa`, `1234abcd`): the whole password
 * is one trivial run (a repeated unit of up to 4 characters, an ascending or descending
 * sequence, a stretch of a keyboard row), or two of them, with symbols around at most.
 */
function isRepetitiveOrSequential(lower: string): boolean {
  const whole = codePoints(lower);
  if (isTrivialRun(whole)) return true;
  const trimmed = codePoints(lower.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''));
  if (isTrivialRun(trimmed)) return true;
  for (let split = minContextWordLength; split <= trimmed.length - minContextWordLength; split++) {
    if (isTrivialRun(trimmed.slice(0, split)) && isTrivialRun(trimmed.slice(split))) return true;
  }
  return false;
}

function isTrivialRun(chars: string[]): boolean {
  if (chars.length < 3) return false;
  for (let unit = 1; unit <= 4 && unit * 2 <= chars.length; unit++) {
    if (chars.every((char, index) => index < unit || char === chars[index - unit])) return true;
  }
  const text = chars.join('');
  if (keyboardRows.some((row) => row.includes(text) || [...row].reverse().join('').includes(text))) return true;
  return isSequence(chars, 1) || isSequence(chars, -1);
}

/** Each code point is the previous one plus `step` (`abcdef`, `87654`), the digits wrapping (`7890`). */
function isSequence(chars: string[], step: 1 | -1): boolean {
  for (let index = 1; index < chars.length; index++) {
    const previous = chars[index - 1]?.codePointAt(0) ?? 0;
    const current = chars[index]?.codePointAt(0) ?? 0;
    if (current - previous === step) continue;
    const wrapsDigits = step === 1 ? previous === 0x39 && current === 0x30 : previous === 0x30 && current === 0x39;
    if (!wrapsDigits) return false;
  }
  return true;
}

function codePoints(text: string): string[] {
  return Array.from(text);
}
