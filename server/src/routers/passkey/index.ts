import type { TRPCRouterRecord } from '@trpc/server';
import { authenticationOptions } from './authenticationOptions';
import { list } from './list';
import { register } from './register';
import { registrationOptions } from './registrationOptions';
import { remove } from './remove';
import { rename } from './rename';
import { signIn } from './signIn';

export const passkeyRouter = {
  registrationOptions,
  register,
  authenticationOptions,
  signIn,
  list,
  rename,
  remove,
} satisfies TRPCRouterRecord;
