import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A loopback HTTP server that answers PowerDNS API paths with recorded responses. Routes are
 * `METHOD path` (path after /api/v1/servers/localhost, with the query string).
 */
export class FakePowerDnsApi {
  readonly requests: RecordedRequest[] = [];
  readonly #routes = new Map<string, FakeResponse>();
  #server: Server | undefined;
  #url = '';

  get url(): string {
    return this.#url;
  }

  route(method: string, path: string, response: FakeResponse): this {
    this.#routes.set(`${method} ${path}`, response);
    return this;
  }

  async start(): Promise<this> {
    const prefix = '/api/v1/servers/localhost';
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = request.url ?? '';
        this.requests.push({
          method: request.method ?? '',
          url,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const path = url.startsWith(prefix) ? url.slice(prefix.length) : url;
        const answer = this.#routes.get(`${request.method} ${path}`) ?? {
          status: 404,
          body: 'Not Found',
        };
        setTimeout(() => {
          response.writeHead(answer.status, answer.headers ?? {});
          response.end(answer.body ?? '');
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}${prefix}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
