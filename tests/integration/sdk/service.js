// A Node.js HTTP service on the OpenTelemetry JavaScript SDK (not under
// the shim): its http instrumentation makes a SERVER span for each request
// and a CLIENT span for its call to the backend, continuing and passing on
// W3C trace context, and its OTLP/HTTP exporter (protobuf or JSON) sends
// them to spanshim-collector's --otlp-listen.
// usage: node service.js PORT_FILE BACKEND_PORT proto|json OTLP_TRACES_URL
// (the service's name: OTEL_SERVICE_NAME)
const fs = require('fs');
const { NodeSDK, tracing } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const Proto = require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter;
const Json = require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;

const [portFile, backend, encoding, url] = process.argv.slice(2);
const exporter = encoding === 'json' ? new Json({ url }) : new Proto({ url });
const sdk = new NodeSDK({
  spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();

const http = require('http'); // after start: the instrumentation patches it as it loads

const server = http.createServer((req, res) => {
  http.get({ host: '127.0.0.1', port: Number(backend), path: '/inventory?via=' + encoding }, (up) => {
    const chunks = [];
    up.on('data', (c) => chunks.push(c));
    up.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(up.statusCode, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
  }).on('error', () => { res.writeHead(502); res.end(); });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => {
  server.close();
  sdk.shutdown().finally(() => process.exit(0));
});
