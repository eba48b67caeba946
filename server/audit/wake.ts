// Who hears that an audit entry is waiting to be sequenced. Writers only insert
// pending entries (trail.ts); this tells the in-process sequencer loop to look
// soon, and tells a request (or any scope) that it appended, so it can wait for
// its entries to be in the log before answering (read-your-writes).
import { AsyncLocalStorage } from 'node:async_hooks';

interface Scope {
  appended: boolean;
}

const scopes = new AsyncLocalStorage<Scope>();
const listeners = new Set<() => void>();
let appendedHere = false;

/** Whether this process has appended any entry (a command that did not has nothing to sequence at exit). */
export const appendsSeen = () => appendedHere;

/** Called by appendAudit after inserting a pending entry. */
export function noteAppend(): void {
  appendedHere = true;
  const scope = scopes.getStore();
  if (scope) scope.appended = true;
  for (const listener of listeners) listener();
}

/** Runs `fn`, reporting whether anything in it appended an audit entry. */
export async function trackAppends<T>(fn: () => Promise<T>): Promise<{ result: T; appended: boolean }> {
  const scope: Scope = { appended: false };
  const result = await scopes.run(scope, fn);
  return { result, appended: scope.appended };
}

/** Subscribes to appends in this process; returns the unsubscribe. */
export function onAppend(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
