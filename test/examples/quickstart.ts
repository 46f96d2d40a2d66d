// Signs up, verifies the email with the code from the development outbox, signs in and
// reads the profile, all through the typed client. Run it next to `pnpm start`:
//   pnpm exec tsx test/examples/quickstart.ts
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createCookieJar, createIamClient, isIamError } from '@iam/client';

const url = process.env.IAM_URL ?? 'http://localhost:3000/trpc';
const outbox = path.resolve(process.env.IAM_DATA_DIR ?? '.data', 'outbox');

const iam = createIamClient({ url, cookieJar: createCookieJar() });
const email = `newcomer.${randomBytes(3).toString('hex')}@example.com`;
const password = 'a long passphrase nobody guesses';

const { challengeId } = await iam.auth.signup.mutate({ email, password, name: 'Newcomer' });
console.log(`signed up ${email}; verification code sent`);

// Without RESEND_API_KEY, mail lands in the outbox under the data dir.
const code = await codeFromOutbox(email);
const verified = await iam.auth.verifyEmail.mutate({ challengeId, code });
console.log(`verified: ${verified.user.email} (${verified.user.id})`);

const login = await iam.auth.login.mutate({ email, password });
if (login.status !== 'authenticated') throw new Error(`unexpected ${login.status}`);
const me = await iam.auth.me.query();
console.log(`signed in as ${me.name} <${me.email}>, roles ${me.roles.join(', ')}`);

try {
  await iam.auth.login.mutate({ email, password: 'wrong password entirely' });
} catch (error) {
  if (isIamError(error, 'INVALID_CREDENTIALS')) console.log('a wrong password is refused with INVALID_CREDENTIALS');
  else throw error;
}

async function codeFromOutbox(to: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const files = (await readdir(outbox).catch(() => [])).sort().reverse();
    for (const file of files) {
      const message = JSON.parse(await readFile(path.join(outbox, file), 'utf8')) as { to: string | string[]; text: string };
      if ([message.to].flat().includes(to)) {
        const code = /\b(\d{6})\b/.exec(message.text)?.[1];
        if (code) return code;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail to ${to} in ${outbox}`);
}
