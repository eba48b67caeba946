// The page shell every server-rendered page shares: semantic HTML, readable
// without JavaScript, and the one stylesheet (./style.ts) the sign-on cards use too.
import type { Child } from 'hono/jsx';
import { PAGE_CSS } from './style.js';
import type { Lang } from './i18n.js';

const SKIP: Record<Lang, string> = { en: 'Skip to content', fr: 'Aller au contenu', de: 'Zum Inhalt springen' };

/** `lang` is the page's language (./i18n.ts); English when the page has only English. */
export function Layout(props: { title: string; children: Child; nav?: Child; lang?: Lang }) {
  const lang = props.lang ?? 'en';
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · meetplane</title>
        <style dangerouslySetInnerHTML={{ __html: PAGE_CSS }} />
      </head>
      <body>
        <a class="skip" href="#main">{SKIP[lang]}</a>
        <header class="site">
          <a class="brand" href="/">meetplane</a>
          {props.nav}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
