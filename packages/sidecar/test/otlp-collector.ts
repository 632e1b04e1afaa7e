/**
 * A stand-in OTLP/HTTP collector for tests: accepts POST /v1/traces and /v1/metrics with JSON
 * bodies (the http/json protocol) on 127.0.0.1, a random port, and keeps what it received.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

/** One span of an OTLP JSON trace export, flattened. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  statusCode: number;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  events: string[];
}

export interface CollectedMetric {
  name: string;
  resource: Record<string, AttributeValue>;
  /** Every data point's attributes. */
  points: Record<string, AttributeValue>[];
}

export interface StandInCollector {
  /** `http://127.0.0.1:PORT` — the OTEL_EXPORTER_OTLP_ENDPOINT to give. */
  url: string;
  requests: CollectedRequest[];
  spans(): CollectedSpan[];
  metrics(): CollectedMetric[];
  close(): Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAnyValue[] };
}

interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function valueOf(value: OtlpAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return null;
}

export function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((entry) => [entry.key, valueOf(entry.value)]));
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: OtlpKeyValue[];
        status?: { code?: number };
        events?: { name: string }[];
      }[];
    }[];
  }[];
}

interface OtlpMetrics {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: {
      metrics?: ({ name: string } & Record<
        string,
        { dataPoints?: { attributes?: OtlpKeyValue[] }[] } | string
      >)[];
    }[];
  }[];
}

/** Listens on 127.0.0.1:`port` (default: a random free port); rejects when the port is taken. */
export async function startCollector(port = 0): Promise<StandInCollector> {
  const requests: CollectedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = { unparsed: Buffer.concat(chunks).toString('base64') };
      }
      const path = request.url ?? '';
      requests.push({ path, headers: request.headers, body });
      const known = request.method === 'POST' && (path === '/v1/traces' || path === '/v1/metrics');
      response.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    spans() {
      return requests
        .filter((request) => request.path === '/v1/traces')
        .flatMap((request) =>
          ((request.body as OtlpTraces).resourceSpans ?? []).flatMap((resourceSpans) => {
            const resource = attributesOf(resourceSpans.resource?.attributes);
            return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
              (scope.spans ?? []).map((span) => ({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind,
                startMs: Number(BigInt(span.startTimeUnixNano) / 1_000_000n),
                endMs: Number(BigInt(span.endTimeUnixNano) / 1_000_000n),
                statusCode: span.status?.code ?? 0,
                attributes: attributesOf(span.attributes),
                resource,
                events: (span.events ?? []).map((event) => event.name),
              })),
            );
          }),
        );
    },
    metrics() {
      return requests
        .filter((request) => request.path === '/v1/metrics')
        .flatMap((request) =>
          ((request.body as OtlpMetrics).resourceMetrics ?? []).flatMap((resourceMetrics) => {
            const resource = attributesOf(resourceMetrics.resource?.attributes);
            return (resourceMetrics.scopeMetrics ?? []).flatMap((scope) =>
              (scope.metrics ?? []).map((metric) => {
                const data = Object.values(metric).find(
                  (value): value is { dataPoints?: { attributes?: OtlpKeyValue[] }[] } =>
                    typeof value === 'object' && value !== null && 'dataPoints' in value,
                );
                return {
                  name: metric.name,
                  resource,
                  points: (data?.dataPoints ?? []).map((point) => attributesOf(point.attributes)),
                };
              }),
            );
          }),
        );
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
