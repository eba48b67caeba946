// The page shell every server-rendered page shares: semantic HTML, readable
// without JavaScript, and the one stylesheet (./style.ts) the sign-on cards use too.
import type { Child } from 'hono/jsx';
import { PAGE_CSS } from './style.js';

export function Layout(props: { title: string; children: Child; nav?: Child; lang?: string }) {
  return (
    <html lang={props.lang ?? 'en'}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · meetplane</title>
        <style dangerouslySetInnerHTML={{ __html: PAGE_CSS }} />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site">
          <a class="brand" href="/">meetplane</a>
          {props.nav}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
