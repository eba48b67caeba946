// The one stylesheet of every server-rendered page (sign-on, /me, the
// transfer and hand-over pages, /audit, the landing and setup pages): white
// cards on a light grey ground, text contrast above 7:1, a visible focus ring,
// and nothing wider than the screen: long ids, hashes and URLs wrap, so a page
// reads at 360 px without sideways scrolling. Sent in a <style> element (the
// page policy allows inline styles, never inline scripts); no page uses style
// attributes.
export const PAGE_CSS = `
:root{color-scheme:light;--fg:#1a1a1a;--bg:#f4f4f4;--card:#fff;--muted:#444;--accent:#0b4a8b;--line:#c8c8c8;--bad:#a4000f;--bad-bg:#fff0f0;--good:#0a6b2c;--good-bg:#effaf2;--focus:#b45f00}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;overflow-wrap:anywhere}
header.site{max-width:60rem;margin:0 auto;padding:.75rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header.site .brand{font-weight:700;text-decoration:none;color:var(--fg);margin-right:auto}
header.site form{margin:0}header.site button{margin:0}
main{max-width:60rem;margin:0 auto 2rem;background:var(--card);padding:1.25rem 1.5rem;border:1px solid var(--line);border-radius:6px}
main.narrow{max-width:30rem;margin-top:2rem}
@media (max-width:40rem){main{padding:1rem;border-left:0;border-right:0;border-radius:0}main.narrow{margin-top:0}}
h1{font-size:1.5rem;margin:0 0 1rem;line-height:1.25}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
h3{font-size:1.05rem;margin:1.25rem 0 .25rem}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
table{border-collapse:collapse;width:100%}
caption{text-align:left}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:.9rem}
pre{background:#f4f4f4;padding:1rem;border:1px solid var(--line);white-space:pre-wrap}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input,select,textarea{font:inherit;padding:.5rem;border:2px solid #595959;border-radius:4px;max-width:100%}
input[type=email],input[type=password],input[type=text]{width:100%}
fieldset{border:1px solid var(--line);border-radius:4px;margin:1rem 0;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1.2rem;margin:1rem .5rem 0 0;border-radius:4px;border:2px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger,.button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
.muted,.hint{color:var(--muted)}
.hint{font-size:.9rem}
.ok{color:var(--good);font-weight:600}
.bad{color:var(--bad);font-weight:600}
.alert{border:2px solid var(--bad);background:var(--bad-bg);color:var(--bad);padding:.75rem;border-radius:4px}
.panel{border:2px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
.panel.consent{border-color:var(--good);background:var(--good-bg)}
.panel.object{border-color:var(--bad);background:var(--bad-bg)}
.panel h3{margin-top:0}
dl{margin:0}dt{font-weight:600;margin-top:.5rem}dd{margin:0 0 .25rem 0}
ul{padding-left:1.25rem}
.or{margin:1.5rem 0 0;border-top:1px solid var(--line);padding-top:1rem}
main.narrow code{font-size:1.25rem;letter-spacing:.1em}
form.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
`;
