// An OTLP/HTTP receiver for the forwarding tests. Every POST to /v1/traces
// is decoded with the OpenTelemetry JavaScript SDK's generated protobufjs
// decoders (@opentelemetry/otlp-transformer), not with anything of
// spanshim's, and recorded as one JSON line: the status answered, the
// request headers, and each span's identity and times. A POST to /v1/logs
// is decoded as an ExportLogsServiceRequest with the SDK's generated
// decoder of @opentelemetry/otlp-transformer 0.214.0 (installed as
// otlp-transformer-logs: later versions ship no logs decoder) and recorded
// with each log record's fields.
//
// usage: node receiver.js PORT_FILE RECORD PORT [SCRIPT]
//   PORT 0 picks a free one; a path listens on that Unix socket. SCRIPT lists how to answer successive
//   requests, comma-separated (then 200 for ever): 200, 400, 429, 502,
//   503:SECS (503 with Retry-After), slow:MS (answer 200 after MS; a request
//   whose client gave up by then is not recorded), partial:N (200 with a
//   partial success rejecting N spans). With TLS_CERT and TLS_KEY in the
//   environment it speaks HTTPS.
"use strict";
const fs = require("fs");
const http = require("http");
const https = require("https");
const zlib = require("zlib");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");

const pb = root.opentelemetry.proto.collector.trace.v1;
const logsPb = require("otlp-transformer-logs/build/src/generated/root")
  .opentelemetry.proto.collector.logs.v1;
const [portFile, record, port, script] = process.argv.slice(2);
const plan = script ? script.split(",") : [];

function hex(b) {
  return Buffer.from(b || []).toString("hex");
}

function spansOf(req) {
  const out = [];
  for (const rs of req.resourceSpans || []) {
    let service = "";
    for (const a of (rs.resource && rs.resource.attributes) || [])
      if (a.key === "service.name") service = a.value.stringValue;
    for (const ss of rs.scopeSpans || [])
      for (const s of ss.spans || [])
        out.push({
          service, traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
          name: s.name, kind: s.kind, start: String(s.startTimeUnixNano), end: String(s.endTimeUnixNano),
          attributes: (s.attributes || []).length,
        });
  }
  return out;
}

function anyValue(v) {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return String(v.intValue);
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return JSON.stringify(v);
}

function logsOf(req) {
  const out = [];
  for (const rl of req.resourceLogs || []) {
    let service = "";
    for (const a of (rl.resource && rl.resource.attributes) || [])
      if (a.key === "service.name") service = a.value.stringValue;
    for (const sl of rl.scopeLogs || [])
      for (const l of sl.logRecords || [])
        out.push({
          service, scope: sl.scope ? sl.scope.name : "", traceId: hex(l.traceId), spanId: hex(l.spanId),
          time: String(l.timeUnixNano), observed: String(l.observedTimeUnixNano),
          severityNumber: l.severityNumber, severityText: l.severityText, body: anyValue(l.body),
          flags: l.flags,
          attributes: Object.fromEntries((l.attributes || []).map((a) => [a.key, anyValue(a.value)])),
        });
  }
  return out;
}

function answer(res, status, headers, body) {
  res.writeHead(status, Object.assign({ "Content-Type": "application/x-protobuf" }, headers));
  res.end(body);
}

const tls = process.env.TLS_CERT
  ? { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) }
  : null;
const server = (tls ? (h) => https.createServer(tls, h) : http.createServer)((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body = Buffer.concat(chunks);
    if (req.headers["content-encoding"] === "gzip") body = zlib.gunzipSync(body);
    const isLogs = req.url.endsWith("/logs");
    const decoded = (isLogs ? logsPb.ExportLogsServiceRequest : pb.ExportTraceServiceRequest).decode(body);
    const Response = isLogs ? logsPb.ExportLogsServiceResponse : pb.ExportTraceServiceResponse;
    const step = plan.shift() || "200";
    const [what, arg] = step.split(":");
    const entry = isLogs ? { path: req.url, headers: req.headers, logs: logsOf(decoded) }
                         : { path: req.url, headers: req.headers, spans: spansOf(decoded) };
    const done = (status, headers, out) => {
      if (req.socket.destroyed) return; // the client gave up: as if never received
      entry.status = status;
      fs.appendFileSync(record, JSON.stringify(entry) + "\n");
      answer(res, status, headers, out);
    };
    if (what === "slow") {
      setTimeout(() => done(200, {}, Response.encode({}).finish()), Number(arg));
    } else if (what === "partial") {
      const r = Response.encode({ partialSuccess: isLogs
        ? { rejectedLogRecords: Number(arg), errorMessage: "too old" }
        : { rejectedSpans: Number(arg), errorMessage: "too old" } }).finish();
      done(200, {}, r);
    } else if (what === "503" && arg) {
      done(503, { "Retry-After": arg }, "");
    } else {
      done(Number(what), {}, what === "200" ? Response.encode({}).finish() : "");
    }
  });
});

server.keepAliveTimeout = 60000;
const ready = () => {
  const a = server.address();
  fs.writeFileSync(portFile + ".tmp", typeof a === "string" ? "0" : String(a.port));
  fs.renameSync(portFile + ".tmp", portFile);
};
if (port.startsWith("/")) server.listen(port, ready);
else server.listen(Number(port), "127.0.0.1", ready);
process.on("SIGTERM", () => process.exit(0));
