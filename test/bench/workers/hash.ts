// Baseline: raw password verification in a plain node process, at the service's own argon2id
// parameters (imported from the service, so they cannot drift) and at better-auth's default
// scrypt, from `concurrency` concurrent callers, as the service's login would run it.

import { passwordHashOptions } from '@iam/server';
import argon2 from 'argon2';
import { hashPassword as scryptHash, verifyPassword as scryptVerify } from 'better-auth/crypto';
import { serveCommands } from '../lib/child';
import { timedLoop } from '../lib/loop';

const password = 'correct horse battery staple, benchmark edition';
const argon2Hash = await argon2.hash(password, passwordHashOptions);
const scryptHashed = await scryptHash(password);

const verifiers = {
  argon2id: async () => {
    if (!(await argon2.verify(argon2Hash, password))) throw new Error('argon2 verify failed');
  },
  scrypt: async () => {
    if (!(await scryptVerify({ hash: scryptHashed, password }))) throw new Error('scrypt verify failed');
  },
};

serveCommands(
  { argon2: passwordHashOptions },
  {
    run: ({ algorithm, concurrency, durationInMs }: { algorithm: keyof typeof verifiers; concurrency: number; durationInMs: number }) =>
      timedLoop({ concurrency, durationInMs }, verifiers[algorithm]),
  },
);
