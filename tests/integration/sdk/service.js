// A Node.js HTTP service (apps/node_front.js) on the OpenTelemetry
// JavaScript SDK (not under the shim): its http instrumentation makes a
// SERVER span for each request and a CLIENT span for its call to the
// backend, continuing and passing on W3C trace context, and its OTLP/HTTP exporter (protobuf or JSON) sends
// them to spanshim-collector's --otlp-listen.
// usage: node service.js PORT_FILE BACKEND_PORT proto|json OTLP_TRACES_URL
// (the service's name: OTEL_SERVICE_NAME)
const { NodeSDK, tracing } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const Proto = require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter;
const Json = require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;

const [, , encoding, url] = process.argv.slice(2); // PORT_FILE BACKEND_PORT: node_front.js's
const exporter = encoding === 'json' ? new Json({ url }) : new Proto({ url });
const sdk = new NodeSDK({
  spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();

// The service itself is the plain one of the shim's Node.js test, loaded
// after start: the instrumentation patches http as it loads.
require('../apps/node_front.js');

process.on('SIGTERM', () => {
  sdk.shutdown().finally(() => process.exit(0));
});
