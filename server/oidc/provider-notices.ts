// oidc-provider prints its notices ("default ... function called, you SHOULD
// change it", "you MUST change it") with console.warn and console.info: no
// JSON, no level, no request id, straight to the terminal. This diverts those
// lines (and only those: they start with "oidc-provider ") to the JSON logger.
// Every default it warns about is configured in ./provider.ts, so a line here
// means a new one appeared with an upgrade.
import type { Logger } from '../logger.js';

let current: Logger | undefined;
let installed = false;

const PREFIX = /^oidc-provider (WARNING|NOTICE): /;

function divert(original: (...args: unknown[]) => void, level: 'warn' | 'info') {
  return (...args: unknown[]) => {
    const first = args[0];
    // The provider colours its lines when the stream is a TTY.
    const text = typeof first === 'string' ? first.replace(/\x1b\[[0-9;]*m/g, '') : undefined;
    if (current && text !== undefined && PREFIX.test(text)) {
      current[level]({ component: 'oidc-provider' }, text.replace(PREFIX, ''));
      return;
    }
    original(...args);
  };
}

/** Routes the provider's notices to `log` from now on (the newest provider's logger wins). */
export function routeProviderNotices(log: Logger): void {
  current = log;
  if (installed) return;
  installed = true;
  console.warn = divert(console.warn.bind(console), 'warn');
  console.info = divert(console.info.bind(console), 'info');
}
