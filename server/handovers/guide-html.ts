// The operations guide as HTML for the hand-over's web page: the same Markdown
// the API and CLI give (server/handovers/guide.ts), rendered by marked. Names,
// titles and comments in the guide come from people, so any HTML in the text
// is shown as text, never passed through (the page's policy allows no script
// either way).
import { Marked } from 'marked';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
  },
});

export function guideHtml(markdown: string): string {
  return marked.parse(markdown) as string;
}
