// The language of a page under /me: the signed-in member's choice (kept on
// their account, set on /me), else what their browser asks for, else the
// page's own fallback (a tenancy's language), else English.
import type { Context } from 'hono';
import type { Db } from '../db/index.js';
import { findAccount } from '../accounts/service.js';
import { chooseLanguage, type Lang } from './i18n.js';

export async function memberLang(c: Context, db: Db, preference?: string | null, fallback: Lang = 'en'): Promise<Lang> {
  if (preference === undefined) {
    const id = c.get('memberId') as string | undefined;
    preference = id ? ((await findAccount(db, id))?.language ?? null) : null;
  }
  return chooseLanguage(c.req.header('accept-language'), preference, fallback);
}
