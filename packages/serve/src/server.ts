/** The HTTP(S) server: routing, auth, JSON bodies and errors; node:http only. */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { ChorusError } from '@chorus/core';
import { authorize } from './auth.js';
import type { ServedLog } from './coordination.js';
import { apiError, errorBody, statusOf } from './errors.js';
import { findRoute, type Route } from './router.js';
import { createRoutes } from './routes.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface ServeOptions {
  served: ServedLog;
  tokensFile: string;
  host: string;
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw apiError('Chorus_BadRequestError', 'the body is too large');
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw apiError('Chorus_BadRequestError', 'the body is not valid JSON');
  }
}

/** The page and its files come from this server only: no script, style or picture from elsewhere. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function sendRaw(response: ServerResponse, status: number, raw: string, contentType: string) {
  response.writeHead(status, { 'content-type': contentType, ...PAGE_HEADERS });
  response.end(raw);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

/** Finds the route and checks the token; logs refused attempts (never the token). */
async function authorizeRoute(
  routes: readonly Route[],
  request: IncomingMessage,
  options: ServeOptions,
  logger: Logger,
) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const { match, pathKnown } = findRoute(routes, request.method ?? 'GET', url.pathname);
  if (!match)
    throw pathKnown
      ? apiError(
          'Chorus_MethodNotAllowedError',
          `${request.method} is not allowed on ${url.pathname}`,
        )
      : apiError('Chorus_NotFoundError', `no route ${url.pathname}`);
  if (match.route.role === null) return { match, url, caller: undefined, callerRole: undefined };
  try {
    const stored = await authorize(request, options.tokensFile, match.route.role);
    return { match, url, caller: stored.name, callerRole: stored.role };
  } catch (error) {
    const attempt = {
      method: request.method,
      path: url.pathname,
      remote: request.socket.remoteAddress,
    };
    logger.warn({ ...attempt, code: (error as Error).name }, 'refused API call');
    throw error;
  }
}

function handler(routes: readonly Route[], options: ServeOptions, logger: Logger) {
  return async (request: IncomingMessage, response: ServerResponse) => {
    try {
      const { match, url, caller, callerRole } = await authorizeRoute(
        routes,
        request,
        options,
        logger,
      );
      const body = request.method === 'POST' ? await readJsonBody(request) : undefined;
      const context = {
        params: match.params,
        query: url.searchParams,
        body,
        caller,
        callerRole,
        request,
        response,
      };
      const result = await match.route.handler(context);
      if (result && 'raw' in result)
        sendRaw(response, result.status, result.raw, result.contentType);
      else if (result) sendJson(response, result.status, result.body);
    } catch (error) {
      const status = statusOf(error);
      if (status >= 500 && !ChorusError.isInstance(error))
        logger.error({ err: error }, 'API call failed');
      sendJson(response, status, errorBody(error));
    }
  };
}

/** Starts the server; a non-loopback address needs TLS. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (!isLoopback(options.host) && !options.tls)
    throw new ChorusError('Chorus_InsecureListenError', {
      message: `refusing to listen on ${options.host} without TLS: give --tls-cert and --tls-key, or listen on 127.0.0.1`,
    });
  const logger = options.logger ?? pino({ name: 'chorus-serve' }, pino.destination(2));
  const listener = handler(createRoutes(options.served, options.tokensFile), options, logger);
  const onRequest = (request: IncomingMessage, response: ServerResponse) =>
    void listener(request, response);
  const server = options.tls
    ? createHttpsServer(options.tls, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  logger.info({ url }, 'chorus serve listening');
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
