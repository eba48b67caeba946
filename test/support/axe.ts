// Accessibility and small-screen checks of a page in Debian's chromium.
// axe-core is evaluated into the page over the DevTools protocol (like a
// browser extension): the page's own policy allows no scripts, and this
// neither weakens nor bypasses it for the page's content.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeProblem {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** The serious and critical violations axe-core finds (WCAG 2.x A and AA rules and best practices). */
export async function seriousViolations(page: Page): Promise<AxeProblem[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
    violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }>;
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact!, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** How wide the page is laid out: more than the viewport means sideways scrolling. */
export function scrollWidth(page: Page): Promise<number> {
  return page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;
}
