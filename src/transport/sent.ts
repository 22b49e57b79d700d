/**
 * The promise a socket connection's `send` returns when the frame went to the socket at
 * once. It is shared (a settled promise cannot change), so the relay's hot path can
 * recognise it by identity and skip attaching a failure handler that could never run: each
 * `.catch()` on a settled promise costs an allocation and a microtask.
 *
 * @internal
 * @module
 */

/** Already resolved; returned by a send whose frame the socket took synchronously. */
export const SENT: Promise<void> = Promise.resolve();
