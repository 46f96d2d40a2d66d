import type { TRPCRouterRecord } from '@trpc/server';
import { login } from './login';
import { logout } from './logout';
import { me } from './me';
import { signup } from './signup';
import { verifyEmail } from './verifyEmail';

export const authRouter = { signup, verifyEmail, login, logout, me } satisfies TRPCRouterRecord;
