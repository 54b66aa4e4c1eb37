/*
 * app.js - the trace viewer's page: the trace list with its filters, one
 * trace as a waterfall with a panel of everything a span says, and the
 * service map; the log records of a span in its panel, those of no span
 * held under the waterfall. Everything comes from the collector's JSON API (/api/...);
 * nothing is loaded from anywhere else. Every string from a span is put in
 * the page as text (textContent, createTextNode), never as markup.
 */
"use strict";

const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
const KIND = ["unspecified", "internal", "server", "client", "producer", "consumer"];
const IN_FLIGHT = "spanshim.span.in_flight";

/* An element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/* One colour per service: distinct ones from a palette in the order
 * services are first seen (red is for errors), then hues from the name. */
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
                 "#9c755f", "#ff9da7", "#bab0ac", "#86bcb6", "#8cd17d", "#d4a6c8"];
const colours = new Map();

function colour(service) {
  if (!colours.has(service)) {
    let h = 2166136261;
    for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 16777619);
    colours.set(service, colours.size < PALETTE.length ? PALETTE[colours.size]
                                                       : "hsl(" + ((h >>> 0) % 360) + ", 55%, 55%)");
  }
  return colours.get(service);
}

function ms(v) {
  if (v >= 1000) return (v / 1000).toFixed(2) + " s";
  if (v >= 10) return v.toFixed(1) + " ms";
  return v.toFixed(3) + " ms";
}

function problem(text) {
  $("problem").hidden = !text;
  $("problem").textContent = text || "";
}

async function api(path) {
  const r = await fetch(path, {cache: "no-store"});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

/* An OTLP/JSON AnyValue as text. */
function anyValue(v) {
  if (!v) return "";
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return String(v.intValue);
  if ("doubleValue" in v) return String(v.doubleValue);
  if ("boolValue" in v) return String(v.boolValue);
  if ("bytesValue" in v) return "base64:" + v.bytesValue;
  if ("arrayValue" in v) return "[" + (v.arrayValue.values || []).map(anyValue).join(", ") + "]";
  if ("kvlistValue" in v)
    return "{" + (v.kvlistValue.values || []).map((kv) => kv.key + ": " + anyValue(kv.value))
      .join(", ") + "}";
  return "";
}

function attrMap(kvs) {
  const m = {};
  for (const kv of kvs || []) m[kv.key] = kv.value;
  return m;
}

function serviceOf(resource) {
  const v = attrMap(resource && resource.attributes)["service.name"];
  return v && "stringValue" in v ? v.stringValue : "";
}

function serviceTag(name) {
  return el("span", {class: "svc", "data-service": name},
            el("span", {class: "dot", style: null}), name);
}

function paintDots(root) {
  for (const s of root.querySelectorAll(".svc")) s.firstChild.style.background =
    colour(s.getAttribute("data-service"));
}

/* ---- the trace list ------------------------------------------------------ */

const FILTERS = ["service", "status", "min_ms", "max_ms", "trace_id", "limit"];

function filterQuery() {
  const q = new URLSearchParams();
  for (const name of FILTERS) {
    const v = document.querySelector("#filters [name=" + name + "]").value.trim();
    if (v) q.set(name, v);
  }
  return q;
}

function setFilters(q) {
  for (const name of FILTERS) {
    const input = document.querySelector("#filters [name=" + name + "]");
    input.value = q.get(name) || (name === "limit" ? "100" : "");
  }
}

function heldLine(body) {
  const h = body.held, c = body.counters;
  let t = h.traces + " traces, " + h.spans + " spans held";
  if (c.traces_evicted) t += "; " + c.traces_evicted + " older traces let go";
  $("held").textContent = t;
}

async function showList(q, refresh) {
  if (!refresh) setFilters(q); /* not under the fingers of someone typing */
  let body;
  try {
    body = await api("api/traces?" + q.toString());
  } catch (e) {
    problem("traces: " + e.message);
    return;
  }
  problem("");
  heldLine(body);
  const tbody = $("trace-list").tBodies[0];
  clear(tbody);
  const services = new Set();
  for (const t of body.traces) {
    t.services.forEach((s) => services.add(s));
    const started = new Date(Number(BigInt(t.startTimeUnixNano) / 1000000n));
    const status = el("td", {},
      t.error ? el("span", {class: "badge error"}, t.errorCount + " error" +
                   (t.errorCount > 1 ? "s" : "")) : el("span", {class: "badge"}, "ok"),
      t.inFlight ? el("span", {class: "badge inflight"}, "in flight") : "");
    const tr = el("tr", {class: "trace-row", "data-trace-id": t.traceId,
                         "data-error": t.error ? "true" : "false"},
      el("td", {}, started.toLocaleTimeString()),
      el("td", {class: "tid", title: t.traceId}, t.traceId.slice(0, 8)),
      el("td", {class: "root"}, t.rootName, " ", el("span", {class: "muted"}, t.rootService)),
      el("td", {}, ...t.services.map(serviceTag)),
      el("td", {class: "num duration", "data-ms": t.durationMs}, ms(t.durationMs)),
      el("td", {class: "num spans"}, t.spanCount),
      status);
    tr.addEventListener("click", () => { location.hash = "#/trace/" + t.traceId; });
    tbody.append(tr);
  }
  paintDots(tbody);
  $("list-count").textContent = body.traces.length + " of " + body.matched + " matching";
  const dl = $("f-services");
  clear(dl);
  for (const s of [...services].sort()) dl.append(el("option", {value: s}));
}

/* ---- one trace -------------------------------------------------------------- */

/* The spans of /api/trace, flattened: each with its resource and scope. */
function flatten(body) {
  const out = [];
  for (const req of body.spans)
    for (const rs of req.resourceSpans || [])
      for (const ss of rs.scopeSpans || [])
        for (const s of ss.spans || [])
          out.push({span: s, resource: rs.resource || {}, scope: ss.scope || {},
                    service: serviceOf(rs.resource)});
  return out;
}

function nanos(v) {
  return BigInt(v || "0");
}

const SEVERITY = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/* A record's severity as it says it, else its number's name. */
function severity(r) {
  if (r.severityText) return r.severityText;
  const n = r.severityNumber || 0;
  return n >= 1 && n <= 24 ? SEVERITY[Math.floor((n - 1) / 4)] : "";
}

/* The trace's log records by span id ("" for none), each in time order. */
function logsBySpan(body) {
  const by = new Map();
  for (const l of body.logs || []) {
    const r = l.record || {};
    const key = r.spanId || "";
    if (!by.has(key)) by.set(key, []);
    by.get(key).push({service: l.service || "", record: r,
                      time: nanos(r.timeUnixNano || r.observedTimeUnixNano)});
  }
  for (const list of by.values()) list.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return by;
}

/* Log records as rows: time (after `from`, when given), severity, body. */
function logRows(tbody, list, from) {
  clear(tbody);
  for (const l of list) {
    const r = l.record, sev = severity(r);
    const at = from !== null && l.time >= from ? "+" + ms(Number(l.time - from) / 1e6)
      : new Date(Number(l.time / 1000000n)).toISOString();
    const attrs = (r.attributes || []).map((kv) => kv.key + "=" + anyValue(kv.value)).join(" ");
    tbody.append(el("tr", {class: "log-row", "data-span-id": r.spanId || "",
                           "data-severity": sev, "data-service": l.service},
      el("td", {class: "log-time"}, at),
      el("td", {class: "log-sev sev-" + sev.toLowerCase()}, sev),
      el("td", {class: "log-body"}, anyValue(r.body), attrs ? " " : "",
         attrs ? el("span", {class: "muted"}, attrs) : "")));
  }
}

/* Parents before children, siblings by start; a span whose parent is not
 * here is a root. Depth set on each. */
function order(items) {
  const byId = new Map(items.map((it) => [it.span.spanId, it]));
  const kids = new Map();
  const roots = [];
  for (const it of items) {
    const p = it.span.parentSpanId;
    if (p && byId.has(p) && p !== it.span.spanId) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(it);
    } else {
      roots.push(it);
    }
  }
  const byStart = (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  const out = [], seen = new Set();
  const walk = (it, depth) => {
    if (seen.has(it)) return;
    seen.add(it);
    it.depth = depth;
    out.push(it);
    for (const k of (kids.get(it.span.spanId) || []).sort(byStart)) walk(k, depth + 1);
  };
  roots.sort(byStart).forEach((r) => walk(r, 0));
  items.filter((it) => !seen.has(it)).forEach((it) => walk(it, 0)); /* a cycle: shown flat */
  return out;
}

function axis(total) {
  const track = el("div", {class: "wf-track"});
  for (let i = 0; i <= 4; i++) {
    const tick = el("div", {class: "wf-tick"}, ms(total * i / 4 / 1e6));
    tick.style.left = (i * 25) + "%";
    if (i === 4) { tick.style.left = "auto"; tick.style.right = "0"; tick.style.borderLeft = "0"; }
    track.append(tick);
  }
  return el("div", {class: "wf-axis"}, el("div", {class: "wf-label"}, "span"), track);
}

function showTrace(id) {
  return api("api/trace?id=" + encodeURIComponent(id)).then((body) => {
    problem("");
    drawTrace(body);
  }, (e) => problem("trace " + id + ": " + e.message));
}

function drawTrace(body) {
  const items = flatten(body);
  const logs = logsBySpan(body);
  let t0 = null, t1 = null;
  for (const it of items) {
    it.start = nanos(it.span.startTimeUnixNano);
    it.inFlight = anyValue(attrMap(it.span.attributes)[IN_FLIGHT]) === "true";
    const end = nanos(it.span.endTimeUnixNano);
    it.end = end > it.start ? end : it.start;
    if (t0 === null || it.start < t0) t0 = it.start;
    if (t1 === null || it.end > t1) t1 = it.end;
  }
  const total = items.length ? Number(t1 - t0) : 0;
  const sum = body.summary;
  $("trace-title").textContent = sum.rootName + " — " + sum.rootService;
  $("trace-meta").textContent = "trace " + sum.traceId + " · " + ms(sum.durationMs) + " · " +
    sum.spanCount + " spans" + (sum.error ? " · " + sum.errorCount + " with errors" : "") +
    (sum.inFlight ? " · " + sum.inFlightCount + " still in flight" : "") +
    (sum.logCount ? " · " + sum.logCount + " log records" : "");
  const legend = $("legend");
  clear(legend);
  sum.services.forEach((s) => legend.append(serviceTag(s)));
  paintDots(legend);

  const wf = $("waterfall");
  clear(wf);
  wf.setAttribute("data-trace-id", sum.traceId);
  wf.setAttribute("data-total-ns", String(total));
  wf.append(axis(total));
  for (const it of order(items)) {
    const s = it.span, err = s.status && s.status.code === 2;
    /* An in-flight span is open-ended: it runs to the trace's last known time. */
    const end = it.inFlight ? t1 : it.end;
    const left = total ? Number(it.start - t0) / total * 100 : 0;
    const width = total ? Number(end - it.start) / total * 100 : 100;
    const bar = el("div", {class: "wf-bar" + (err ? " error" : "") + (it.inFlight ? " inflight" : ""),
                           title: s.name});
    bar.style.left = left + "%";
    bar.style.width = width + "%";
    bar.style.backgroundColor = colour(it.service);
    const dur = el("span", {class: "wf-dur"},
                   it.inFlight ? "in flight" : ms(Number(it.end - it.start) / 1e6));
    dur.style.left = "calc(" + Math.min(left + width, 88) + "% + 4px)";
    it.logs = (s.spanId && logs.get(s.spanId)) || [];
    const label = el("div", {class: "wf-label"},
      err ? el("span", {class: "wf-mark", title: "error"}, "!") : "",
      el("span", {class: "wf-name"}, s.name || "(no name)"),
      el("span", {class: "wf-svc"}, it.service),
      it.logs.length ? el("span", {class: "wf-logs", title: "log records"}, it.logs.length + " log")
                     : "");
    label.style.paddingLeft = (4 + it.depth * 14) + "px";
    const row = el("div", {class: "wf-row" + (err ? " error" : "") + (it.inFlight ? " inflight" : ""),
                           "data-span-id": s.spanId || "", "data-parent-id": s.parentSpanId || "",
                           "data-depth": it.depth, "data-service": it.service,
                           "data-name": s.name || "", "data-error": err ? "true" : "false",
                           "data-in-flight": it.inFlight ? "true" : "false",
                           "data-log-count": it.logs.length,
                           "data-duration-ns": String(it.end - it.start)},
                   label, el("div", {class: "wf-track"}, bar, dur));
    row.addEventListener("click", () => {
      for (const r of wf.querySelectorAll(".wf-row.selected")) r.classList.remove("selected");
      row.classList.add("selected");
      showSpan(it);
    });
    wf.append(row);
  }
  /* Records of no span held here: their trace's, under the waterfall. */
  const spanIds = new Set(items.map((it) => it.span.spanId));
  const loose = [];
  for (const [id, list] of logs) if (!id || !spanIds.has(id)) loose.push(...list);
  loose.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  $("trace-logs-box").hidden = loose.length === 0;
  logRows($("trace-logs").tBodies[0], loose, t0);
  $("span-detail").hidden = true;
}

function kvRows(tbody, rows) {
  clear(tbody);
  for (const [k, v] of rows)
    tbody.append(el("tr", {class: "attr-row", "data-key": k}, el("td", {}, k), el("td", {}, v)));
}

function showSpan(it) {
  const s = it.span;
  $("detail-name").textContent = s.name || "(no name)";
  const status = s.status ? (["unset", "ok", "error"][s.status.code || 0] || String(s.status.code)) +
    (s.status.message ? ": " + s.status.message : "") : "unset";
  kvRows($("detail-span").tBodies[0], [
    ["service", it.service],
    ["kind", KIND[s.kind || 0] || String(s.kind)],
    ["status", status],
    ["duration", it.inFlight ? "in flight" : ms(Number(it.end - it.start) / 1e6)],
    ["start", new Date(Number(it.start / 1000000n)).toISOString()],
    ["trace id", s.traceId || ""],
    ["span id", s.spanId || ""],
    ["parent span id", s.parentSpanId || ""],
  ]);
  kvRows($("detail-attrs").tBodies[0], (s.attributes || []).map((kv) => [kv.key, anyValue(kv.value)]));
  kvRows($("detail-resource").tBodies[0],
         (it.resource.attributes || []).map((kv) => [kv.key, anyValue(kv.value)]));
  kvRows($("detail-scope").tBodies[0], [["name", it.scope.name || ""],
                                        ["version", it.scope.version || ""]]);
  $("detail-logs-none").hidden = it.logs.length > 0;
  logRows($("detail-logs").tBodies[0], it.logs, it.start);
  const events = $("detail-events");
  clear(events);
  for (const e of s.events || []) {
    const at = Number(nanos(e.timeUnixNano) - it.start) / 1e6;
    events.append(el("li", {}, "+" + ms(at) + " " + (e.name || ""), " ",
      el("span", {class: "muted"}, (e.attributes || []).map((kv) => kv.key + "=" + anyValue(kv.value))
        .join(" "))));
  }
  $("span-detail").hidden = false;
}

/* ---- the service map ---------------------------------------------------------- */

/* Columns by the longest chain of calls that leads to a service. */
function levels(nodes, edges) {
  const level = new Map(nodes.map((n) => [n.service, 0]));
  for (let pass = 0; pass < nodes.length; pass++) {
    let moved = false;
    for (const e of edges) {
      if (e.from === e.to) continue;
      const want = level.get(e.from) + 1;
      if (want > level.get(e.to) && want < nodes.length) { level.set(e.to, want); moved = true; }
    }
    if (!moved) break;
  }
  return level;
}

function drawGraph(body) {
  const box = $("service-graph");
  clear(box);
  const level = levels(body.nodes, body.edges);
  const cols = new Map();
  for (const n of body.nodes) {
    const l = level.get(n.service);
    if (!cols.has(l)) cols.set(l, []);
    cols.get(l).push(n);
  }
  const W = 200, H = 54, GX = 150, GY = 26;
  const pos = new Map();
  let width = 20, height = 20;
  for (const [l, list] of cols) {
    list.forEach((n, i) => {
      const x = 20 + l * (W + GX), y = 20 + i * (H + GY);
      pos.set(n.service, {x, y});
      width = Math.max(width, x + W + 20);
      height = Math.max(height, y + H + 20);
    });
  }
  const g = svg("svg", {width, height, viewBox: "0 0 " + width + " " + height});
  const defs = svg("defs");
  const marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
                                markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
  marker.append(svg("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: "#8895a3"}));
  defs.append(marker);
  g.append(defs);
  for (const e of body.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const grp = svg("g", {class: "edge" + (e.errors ? " error" : ""), "data-from": e.from,
                          "data-to": e.to});
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    grp.append(svg("line", {x1, y1, x2: x2 > x1 ? x2 : x2 + W, y2, "marker-end": "url(#arrow)"}));
    grp.append(svg("text", {x: (x1 + x2) / 2 - 30, y: (y1 + y2) / 2 - 4},
                   e.calls + " calls" + (e.errors ? ", " + e.errors + " err" : "") + ", " +
                   ms(e.avgMs)));
    g.append(grp);
  }
  for (const n of body.nodes) {
    const p = pos.get(n.service);
    const grp = svg("g", {class: "node" + (n.errors ? " error" : ""), "data-service": n.service,
                          transform: "translate(" + p.x + "," + p.y + ")"});
    grp.append(svg("rect", {width: W, height: H, rx: 6, stroke: colour(n.service)}));
    grp.append(svg("text", {x: 10, y: 20}, n.service.length > 28 ? n.service.slice(0, 27) + "…"
                                                                  : n.service));
    grp.append(svg("text", {x: 10, y: 40, class: "figures"},
                   n.requests + " req · " + n.errors + " err · avg " + ms(n.avgMs)));
    g.append(grp);
  }
  box.append(g);
}

function showServices() {
  return api("api/services").then((body) => {
    problem(body.leftOff ? body.leftOff + " services or calls left off the map" : "");
    const nodes = $("service-nodes").tBodies[0];
    clear(nodes);
    for (const n of body.nodes)
      nodes.append(el("tr", {class: "node-row", "data-service": n.service},
        el("td", {}, serviceTag(n.service)), el("td", {class: "num requests"}, n.requests),
        el("td", {class: "num errors" + (n.errors ? " error" : "")}, n.errors),
        el("td", {class: "num avg"}, n.avgMs.toFixed(3)),
        el("td", {class: "num max"}, n.maxMs.toFixed(3))));
    paintDots(nodes);
    const edges = $("service-edges").tBodies[0];
    clear(edges);
    for (const e of body.edges)
      edges.append(el("tr", {class: "edge-row", "data-from": e.from, "data-to": e.to},
        el("td", {}, e.from), el("td", {}, e.to), el("td", {class: "num calls"}, e.calls),
        el("td", {class: "num errors" + (e.errors ? " error" : "")}, e.errors),
        el("td", {class: "num avg"}, e.avgMs.toFixed(3)),
        el("td", {class: "num max"}, e.maxMs.toFixed(3))));
    drawGraph(body);
  }, (e) => problem("service map: " + e.message));
}

/* "9 spans", "3 log records", "9 spans, 3 log records" (what is not 0). */
function lostCounts(spans, records, sep) {
  const parts = [];
  if (spans) parts.push(spans + " spans");
  if (records) parts.push(records + " log records");
  return parts.join(sep);
}

/* What the shims lost before their spans and log records got here: a line
 * on every page, and a table by service and reason beside the service map.
 * Only spans lost: the line counts spans alone, as it always did. */
function showLost() {
  return api("api/lost").then((body) => {
    const rows = body.lost || [];
    const spans = rows.reduce((n, r) => n + r.spans, 0);
    const records = rows.reduce((n, r) => n + r.records, 0);
    const by = new Map();
    for (const r of rows) {
      const b = by.get(r.service) || {spans: 0, records: 0};
      b.spans += r.spans;
      b.records += r.records;
      by.set(r.service, b);
    }
    const any = spans + records > 0;
    $("lost").hidden = !any;
    $("lost").textContent = !any ? "" : lostCounts(spans, records, " and ") +
      " lost before they reached the collector: " + [...by].map(([svc, b]) => svc + " " +
        (records ? lostCounts(b.spans, b.records, ", ") : b.spans)).join(records ? "; " : ", ");
    $("lost-box").hidden = !any;
    const tbody = $("lost-table").tBodies[0];
    clear(tbody);
    for (const r of rows)
      tbody.append(el("tr", {class: "lost-row"}, el("td", {}, serviceTag(r.service)),
        el("td", {}, r.reason), el("td", {class: "num"}, r.spans),
        el("td", {class: "num"}, r.records)));
    paintDots(tbody);
  }, (e) => problem("lost spans and log records: " + e.message));
}

/* ---- pages ---------------------------------------------------------------------- */

let current = "";

function route(refresh) {
  const h = location.hash || "#/";
  const view = h.startsWith("#/trace/") ? "trace" : h.startsWith("#/services") ? "services" : "traces";
  current = view;
  $("view-traces").hidden = view !== "traces";
  $("view-trace").hidden = view !== "trace";
  $("view-services").hidden = view !== "services";
  $("nav-traces").classList.toggle("active", view !== "services");
  $("nav-services").classList.toggle("active", view === "services");
  document.body.setAttribute("data-view", view);
  let done;
  if (view === "trace") done = showTrace(decodeURIComponent(h.slice(8)));
  else if (view === "services") done = showServices();
  else done = showList(new URLSearchParams(h.split("?")[1] || ""), refresh);
  /* For whoever watches the page (a test): the view is drawn. */
  Promise.all([done, showLost()]).finally(() => document.body.setAttribute("data-loaded", h));
}

function init() {
  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    document.body.removeAttribute("data-loaded");
    const q = filterQuery().toString();
    const want = "#/" + (q ? "?" + q : "");
    if (location.hash === want) route(); else location.hash = want;
  });
  $("f-clear").addEventListener("click", () => { location.hash = "#/"; });
  $("detail-close").addEventListener("click", () => { $("span-detail").hidden = true; });
  window.addEventListener("hashchange", () => {
    document.body.removeAttribute("data-loaded");
    route();
  });
  setInterval(() => {
    if (current === "traces" && $("f-auto").checked && !document.hidden) route(true);
  }, 3000);
  route();
}

init();
