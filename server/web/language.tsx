// The member's language preference: a form on /me (English, Français,
// Deutsch, or the browser's), kept on the account so pages and mails use it.
// Posted with the session's CSRF token from this origin; the change is the
// member acting on their own pages (me.pages) and is audited.
import type { Hono } from 'hono';
import { eq, sql } from 'drizzle-orm';
import type { Deps } from '../http/env.js';
import type { MemberEnv } from './session.js';
import type { MiddlewareHandler, Context } from 'hono';
import { accounts } from '../accounts/table.js';
import { findAccount } from '../accounts/service.js';
import { accountRef } from '../authz/guard.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { LANGUAGES, type Lang } from './i18n.js';
import { ME_TEXT, type MeText } from './me-text.js';
import { memberLang } from './page-language.js';

const NAMES: Record<Lang, string> = { en: 'English', fr: 'Français', de: 'Deutsch' };

export function LanguageForm(props: { csrf: string; current: string | null; T: MeText }) {
  return (
    <form method="post" action="/me/language">
      <input type="hidden" name="csrf" value={props.csrf} />
      <label for="language">{props.T.languageLabel}</label>
      <select id="language" name="language">
        <option value="" selected={!props.current}>
          {props.T.browsers}
        </option>
        {LANGUAGES.map((l) => (
          <option value={l} lang={l} selected={props.current === l}>
            {NAMES[l]}
          </option>
        ))}
      </select>{' '}
      <button type="submit">{props.T.save}</button>
    </form>
  );
}

export function languagePages(
  routes: Hono<MemberEnv>,
  kit: { requireMember: MiddlewareHandler<MemberEnv>; checkCsrf(sid: string, offered: unknown): boolean; sameOrigin(c: Context): boolean },
  { db, guard }: Deps,
): void {
  routes.post('/language', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    const T = ME_TEXT[await memberLang(c, db)];
    if (!kit.sameOrigin(c) || !kit.checkCsrf(c.get('memberSid'), form.csrf)) return c.text(T.notYourForm, 403);
    const chosen = form.language === '' ? null : (LANGUAGES as readonly unknown[]).includes(form.language) ? (form.language as Lang) : undefined;
    if (chosen === undefined) return c.text(T.chooseLanguage, 400);
    const account = (await findAccount(db, c.get('memberId')))!;
    const actor = await guard.allow({ accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId: null }, 'me.pages', accountRef(account), 'account');
    await db.transaction(async (tx) => {
      await tx.update(accounts).set({ language: chosen, updatedAt: sql`now()` }).where(eq(accounts.id, account.id));
      await appendAudit(tx, { actor, action: 'account.language', subject: { type: 'account', id: person(account.id) }, details: { language: chosen ?? 'browser' } });
    });
    return c.redirect('/me', 303);
  });
}
