/*
 * drive.js - runs the trace viewer's page in Debian's chromium, headless
 * (playwright-core drives it; no browser is downloaded), and reports what
 * the DOM shows, for tests/integration/test_ui.py to judge.
 *
 *   node drive.js PLAN.json   (prints one JSON object: a key per step's name)
 *
 * PLAN: {"url": "http://127.0.0.1:PORT/", "steps": [...]}, each step one of
 *   {"goto": "#/..."}                      open that view, wait until drawn
 *   {"list": NAME}                         the trace list's rows
 *   {"filter": {service, status, min_ms, max_ms, trace_id}, "list": NAME}
 *                                          fill the form, apply, then the rows
 *   {"waterfall": NAME}                    the waterfall's rows and bars
 *   {"click": SPAN_ID, "detail": NAME}     click a span's row: the panel
 *   {"services": NAME}                     the service map's tables and graph
 *   {"lost": NAME}                         the lost-spans line and table
 *   {"tracelogs": NAME}                    the trace's log records of no span shown
 *   {"screenshot": PATH}                   the whole page as PNG
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require(path.join(__dirname, "node_modules", "playwright-core"));

const drawn = () => document.body.getAttribute("data-loaded") === (location.hash || "#/");

async function goto(page, url, hash) {
  if (page.url() === "about:blank") await page.goto(url + hash);
  else await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(drawn, null, {timeout: 20000});
}

function listRows() {
  return [...document.querySelectorAll("#trace-list tbody tr.trace-row")].map((tr) => ({
    traceId: tr.getAttribute("data-trace-id"),
    error: tr.getAttribute("data-error") === "true",
    root: tr.querySelector(".root").textContent,
    services: [...tr.querySelectorAll(".svc")].map((s) => s.textContent),
    durationMs: Number(tr.querySelector(".duration").getAttribute("data-ms")),
    spans: Number(tr.querySelector(".spans").textContent),
  }));
}

function waterfallRows() {
  const wf = document.getElementById("waterfall");
  return {
    traceId: wf.getAttribute("data-trace-id"),
    totalNs: Number(wf.getAttribute("data-total-ns")),
    title: document.getElementById("trace-title").textContent,
    rows: [...wf.querySelectorAll(".wf-row")].map((row) => {
      const bar = row.querySelector(".wf-bar").getBoundingClientRect();
      const track = row.querySelector(".wf-track").getBoundingClientRect();
      const style = getComputedStyle(row.querySelector(".wf-bar"));
      return {
        spanId: row.getAttribute("data-span-id"),
        parentId: row.getAttribute("data-parent-id"),
        depth: Number(row.getAttribute("data-depth")),
        service: row.getAttribute("data-service"),
        name: row.querySelector(".wf-name").textContent,
        error: row.getAttribute("data-error") === "true",
        errorMark: !!row.querySelector(".wf-mark"),
        barError: row.querySelector(".wf-bar").classList.contains("error"),
        inFlight: row.querySelector(".wf-bar").classList.contains("inflight"),
        hatched: style.backgroundImage.includes("repeating-linear-gradient"),
        colour: style.backgroundColor,
        label: row.querySelector(".wf-dur").textContent,
        barLeft: bar.left - track.left, barWidth: bar.width, trackWidth: track.width,
        indent: parseFloat(getComputedStyle(row.querySelector(".wf-label")).paddingLeft),
        logCount: Number(row.getAttribute("data-log-count")),
      };
    }),
  };
}

function detailPanel() {
  const logRowsOf = (id) => [...document.querySelectorAll("#" + id + " tr.log-row")].map((tr) => ({
    spanId: tr.getAttribute("data-span-id"), severity: tr.getAttribute("data-severity"),
    service: tr.getAttribute("data-service"), time: tr.cells[0].textContent,
    body: tr.cells[2].textContent}));
  const kv = (id) => Object.fromEntries([...document.querySelectorAll("#" + id + " tr.attr-row")]
    .map((tr) => [tr.getAttribute("data-key"), tr.cells[1].textContent]));
  return {
    visible: !document.getElementById("span-detail").hidden,
    name: document.getElementById("detail-name").textContent,
    span: kv("detail-span"), attributes: kv("detail-attrs"), resource: kv("detail-resource"),
    logs: logRowsOf("detail-logs"),
    noLogs: !document.getElementById("detail-logs-none").hidden,
  };
}

/* (Evaluated in the page: every helper inside, the page's own names around.) */
function traceLogs() {
  const rows = [...document.querySelectorAll("#trace-logs tr.log-row")].map((tr) => ({
    spanId: tr.getAttribute("data-span-id"), severity: tr.getAttribute("data-severity"),
    service: tr.getAttribute("data-service"), time: tr.cells[0].textContent,
    body: tr.cells[2].textContent}));
  return {visible: !document.getElementById("trace-logs-box").hidden, rows};
}

function serviceMap() {
  const num = (tr, c) => Number(tr.querySelector("." + c).textContent);
  return {
    nodes: [...document.querySelectorAll("#service-nodes tr.node-row")].map((tr) => ({
      service: tr.getAttribute("data-service"), requests: num(tr, "requests"),
      errors: num(tr, "errors"), avgMs: num(tr, "avg"), maxMs: num(tr, "max")})),
    edges: [...document.querySelectorAll("#service-edges tr.edge-row")].map((tr) => ({
      from: tr.getAttribute("data-from"), to: tr.getAttribute("data-to"),
      calls: num(tr, "calls"), errors: num(tr, "errors"), avgMs: num(tr, "avg")})),
    graphNodes: [...document.querySelectorAll("#service-graph g.node")].map((g) => ({
      service: g.getAttribute("data-service"), text: g.textContent})),
    graphEdges: [...document.querySelectorAll("#service-graph g.edge")].map((g) => ({
      from: g.getAttribute("data-from"), to: g.getAttribute("data-to")})),
  };
}

async function filter(page, values) {
  for (const [name, v] of Object.entries(values)) {
    const sel = "#filters [name=" + name + "]";
    if (name === "status") await page.selectOption(sel, v);
    else await page.fill(sel, String(v));
  }
  await page.click("#f-apply");
  await page.waitForFunction(drawn, null, {timeout: 20000});
}

function lostSpans() {
  const line = document.getElementById("lost");
  return {line: line.hidden ? null : line.textContent,
          rows: [...document.querySelectorAll("#lost-table tbody tr")].map(
            (tr) => [...tr.cells].map((td) => td.textContent.trim()))};
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const args = ["--disable-dev-shm-usage"].concat(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []);
  const browser = await chromium.launch({executablePath: "/usr/bin/chromium", args});
  const out = {console: [], requests: []};
  try {
    const page = await browser.newPage({viewport: {width: 1400, height: 900}});
    page.on("console", (m) => out.console.push(m.type() + ": " + m.text()));
    page.on("pageerror", (e) => out.console.push("pageerror: " + e.message));
    page.on("request", (r) => out.requests.push(r.url()));
    for (const step of plan.steps) {
      if (step.goto !== undefined) await goto(page, plan.url, step.goto);
      if (step.filter) await filter(page, step.filter);
      if (step.list) out[step.list] = await page.evaluate(listRows);
      if (step.waterfall) out[step.waterfall] = await page.evaluate(waterfallRows);
      if (step.click) {
        await page.click('.wf-row[data-span-id="' + step.click + '"] .wf-label');
        out[step.detail] = await page.evaluate(detailPanel);
      }
      if (step.services) out[step.services] = await page.evaluate(serviceMap);
      if (step.lost) out[step.lost] = await page.evaluate(lostSpans);
      if (step.tracelogs) out[step.tracelogs] = await page.evaluate(traceLogs);
      if (step.screenshot) await page.screenshot({path: step.screenshot, fullPage: true});
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack || e);
  process.exit(1);
});
