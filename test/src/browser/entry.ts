// What the browser tests load: the typed client, as an application bundles it.
import { createIamClient, isChallengeRequired, isIamError } from '@iam/client';

Object.assign(globalThis, { iam: { createIamClient, isChallengeRequired, isIamError } });
