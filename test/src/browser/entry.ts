// What the browser tests load: the typed client, as an application bundles it.
import {
  createIamClient,
  isChallengeRequired,
  isIamError,
  passkeySupport,
  registerPasskey,
  signInWithPasskey,
  stepUpWithPasskey,
  verifyChallengeWithPasskey,
} from '@iam/client';
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';

Object.assign(globalThis, {
  iam: { createIamClient, isChallengeRequired, isIamError },
  webauthn: { startRegistration, startAuthentication },
  passkeys: { passkeySupport, registerPasskey, signInWithPasskey, stepUpWithPasskey, verifyChallengeWithPasskey },
});
