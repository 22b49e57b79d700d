import type { Server, Socket } from 'node:net';
import { Lifecycle } from '../core/lifecycle.js';
import type { Listener } from './types.js';

/**
 * A {@link Listener} over a `net.Server` (or `tls.Server`). Closing it stops accepting
 * and destroys the sockets it accepted.
 *
 * @internal
 */
export class SocketListener implements Listener {
  readonly #endpoint: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #life = new Lifecycle('Listener');
  readonly #onClosed: (() => void) | undefined;

  constructor(server: Server, endpoint: string, onClosed?: () => void) {
    this.#server = server;
    this.#endpoint = endpoint;
    this.#onClosed = onClosed;
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  /** Tracks an accepted socket so `close()` can end it. */
  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  close(): Promise<void> {
    return this.#life.close(async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await stopped;
      this.#onClosed?.();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
