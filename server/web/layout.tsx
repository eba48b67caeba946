// The page shell every server-rendered page shares: semantic HTML, readable
// without JavaScript, high-contrast colours and a visible focus ring.
import type { Child } from 'hono/jsx';

const CSS = `
:root { color-scheme: light; --fg:#111; --bg:#fff; --muted:#4a4a4a; --accent:#0b57d0; --line:#c8c8c8; --bad:#a50e0e; --good:#0a6b2c; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 1px solid var(--line); display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
header .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: .9rem; }
pre { background: #f4f4f4; padding: 1rem; overflow-x: auto; border: 1px solid var(--line); }
label { display: block; font-weight: 600; margin-top: .5rem; }
input, select { font: inherit; padding: .4rem; border: 1px solid #767676; min-width: 12rem; }
button, .button { font: inherit; padding: .45rem 1rem; background: var(--accent); color: #fff; border: 0; cursor: pointer; text-decoration: none; display: inline-block; margin-top: .75rem; }
.muted { color: var(--muted); }
.ok { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
form.filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
`;

export function Layout(props: { title: string; children: Child; nav?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · meetplane</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <a class="brand" href="/">meetplane</a>
          {props.nav}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
