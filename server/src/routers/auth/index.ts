import type { TRPCRouterRecord } from '@trpc/server';
import { activity } from './activity';
import { changePassword } from './changePassword';
import { confirmEmailChange } from './confirmEmailChange';
import { deleteAccount } from './deleteAccount';
import { exportData } from './exportData';
import { login } from './login';
import { logout } from './logout';
import { me } from './me';
import { requestEmailChange } from './requestEmailChange';
import { requestPasswordReset } from './requestPasswordReset';
import { requestSignIn } from './requestSignIn';
import { resetPassword } from './resetPassword';
import { setPassword } from './setPassword';
import { signInWithCode } from './signInWithCode';
import { signInWithLink } from './signInWithLink';
import { signup } from './signup';
import { updateProfile } from './updateProfile';
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
  requestEmailChange,
  confirmEmailChange,
  requestSignIn,
  signInWithCode,
  signInWithLink,
  setPassword,
  updateProfile,
  exportData,
  activity,
  deleteAccount,
} satisfies TRPCRouterRecord;
