import type { IamClient } from '@iam/client';
import { codeFrom, type TestServer } from './server';

/**
 * A step-up for `action` answered as an account without an authenticator app does: the code
 * mailed to its address. Returns the step-up token. The code mail is picked by its template
 * among the mails that came after the request, since alerts from the outbox may arrive meanwhile.
 */
export async function stepUpByMail(t: TestServer, user: { api: IamClient }, action: string): Promise<string> {
  const before = t.mail.messages.length;
  const challenge = await user.api.mfa.stepUp.begin.mutate({ action });
  let seen = 0;
  const mail = await t.mail.waitFor((message) => seen++ >= before && message.tags.template === 'login_code');
  return (await user.api.mfa.stepUp.verify.mutate({ challengeId: challenge.challengeId, code: codeFrom(mail) })).stepUpToken;
}
