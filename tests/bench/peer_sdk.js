// peer_sdk.js - workload (j)'s server under the peer a user would otherwise
// pick: the OpenTelemetry Node SDK (pinned in tests/integration/sdk) with
// its HTTP instrumentation, a batch span processor and the OTLP/HTTP
// protobuf exporter to a local collector, every span sampled.
// usage: NODE_PATH=.../sdk/node_modules node peer_sdk.js PORT_FILE OTLP_TRACES_URL
const { NodeSDK, tracing } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

const sdk = new NodeSDK({
  spanProcessors: [new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: process.argv[3] }))],
  sampler: new tracing.AlwaysOnSampler(),
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();
process.on('SIGTERM', () => sdk.shutdown().finally(() => process.exit(0)));
// the same server, loaded after start: the instrumentation patches http as it loads
require('./peer_server.js');
