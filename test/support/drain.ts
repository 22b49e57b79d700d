// Synchronous draining of a receiver, shared by the pub/sub unit tests that check what a
// subscriber holds after a run of publishes.

/** Takes every message a receiver holds right now, stopping at the first non-`ok` result. */
export function drain<T>(rx: { tryRecv(): { status: string; value?: T } }): T[] {
  const out: T[] = [];
  for (;;) {
    const r = rx.tryRecv();
    if (r.status !== 'ok') return out;
    out.push(r.value as T);
  }
}
