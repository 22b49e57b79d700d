/**
 * The dashboard server, on 127.0.0.1 only: the static page (`/`, `/dashboard.css`,
 * `/dashboard.mjs`), the current snapshot (`/api/snapshot`), Prometheus metrics
 * (`/metrics`) and the WsBridge on `/ws`, through which the page follows the snapshot
 * topic live. Nothing is writable: the bridge refuses client publishes.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsBridge, type BridgeHub } from '../bridges/ws/index.js';
import type { PrometheusSink } from '../metrics/prometheus/index.js';
import { CliError, EXIT } from './errors.js';
import type { Snapshot } from './snapshot.js';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/dashboard.mjs': { file: 'dashboard.mjs', type: 'text/javascript; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Options of {@link DashboardServer.start}. */
export interface DashboardServerOptions {
  readonly port: number;
  readonly hub: BridgeHub;
  readonly metrics: PrometheusSink;
  readonly snapshot: () => Promise<Snapshot>;
  readonly onError: (error: Error) => void;
}

/** The running dashboard server. */
export class DashboardServer {
  readonly url: string;
  readonly #server: Server;
  readonly #bridge: WsBridge;

  private constructor(url: string, server: Server, bridge: WsBridge) {
    this.url = url;
    this.#server = server;
    this.#bridge = bridge;
  }

  /** Reads the assets, binds 127.0.0.1:`port` (0 = any free port) and serves. */
  static async start(options: DashboardServerOptions): Promise<DashboardServer> {
    const assets = new Map<string, { body: Buffer; type: string }>();
    for (const [path, asset] of Object.entries(ASSETS)) {
      const body = readFileSync(new URL(`./dashboard/${asset.file}`, import.meta.url));
      assets.set(path, { body, type: asset.type });
    }
    const metricsHandler = options.metrics.handler();
    const handle = (request: IncomingMessage, response: ServerResponse): void => {
      const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
      if (path === '/metrics') {
        metricsHandler(request, response);
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
        return;
      }
      if (path === '/api/snapshot') {
        options.snapshot().then(
          (s) => {
            response.writeHead(200, {
              'content-type': 'application/json; charset=utf-8',
              ...SECURITY_HEADERS,
            });
            response.end(JSON.stringify(s));
          },
          (error: unknown) => {
            options.onError(error instanceof Error ? error : new Error(String(error)));
            response.writeHead(503, SECURITY_HEADERS).end();
          },
        );
        return;
      }
      const asset = assets.get(path);
      if (asset === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS });
        response.end('not found\n');
        return;
      }
      response.writeHead(200, { 'content-type': asset.type, ...SECURITY_HEADERS });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    };
    const server = createServer(handle);
    const bridge = new WsBridge({
      hub: options.hub,
      path: '/ws',
      maxConnections: 64,
      onError: options.onError,
    });
    bridge.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      void bridge.close();
      const code = (error as { code?: string }).code;
      throw new CliError(
        `cannot serve the dashboard on 127.0.0.1:${options.port}: ${code ?? String(error)}`,
        code === 'EADDRINUSE' ? EXIT.unavailable : EXIT.failure,
      );
    });
    const { port } = server.address() as AddressInfo;
    return new DashboardServer(`http://127.0.0.1:${port}/`, server, bridge);
  }

  /** Closes WebSocket clients and the HTTP server. */
  async close(): Promise<void> {
    await this.#bridge.close().catch(() => undefined);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
