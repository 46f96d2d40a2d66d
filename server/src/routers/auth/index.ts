import type { TRPCRouterRecord } from '@trpc/server';
import { changePassword } from './changePassword';
import { login } from './login';
import { logout } from './logout';
import { me } from './me';
import { requestPasswordReset } from './requestPasswordReset';
import { resetPassword } from './resetPassword';
import { signup } from './signup';
import { verifyEmail } from './verifyEmail';

export const authRouter = {
  signup,
  verifyEmail,
  login,
  logout,
  me,
  requestPasswordReset,
  resetPassword,
  changePassword,
} satisfies TRPCRouterRecord;
