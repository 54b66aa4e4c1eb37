/*
 * spanshim-node.js - tells the shim which inbound request each outgoing
 * HTTP call of a Node.js process belongs to.
 *
 * An event loop serves many requests on one thread, so the shim's rule
 * "the parent is what this thread last started serving" names the wrong
 * request as soon as two are in flight. Node itself knows: its async
 * context follows a request through timers, promises and callbacks. The
 * shim loads this file into Node processes (NODE_OPTIONS=--require, see
 * ss_node.c); it remembers each inbound request in an AsyncLocalStorage
 * (diagnostics_channel 'http.server.request.start') and gives every
 * plain-http outgoing request made under it (http.request/get through an
 * Agent, fetch through 'undici:request:create') a `traceparent` header
 * that is a hint: a placeholder naming the inbound connection (its fd and
 * ports) and the request's number on it (see ss_hint.h). The shim recognises the hint in
 * the request head, finds that server span, and writes the client span's
 * own traceparent over it, byte for byte the same length: the wire
 * carries one valid traceparent and nothing else.
 *
 * Nothing here runs unless the shim is in this process (it would leave
 * the placeholder on the wire), no header the program set is touched, and
 * https requests get nothing (Node's own TLS hides them from the shim).
 * Only node:diagnostics_channel and node:async_hooks are used.
 */
'use strict';

(function spanshimNode() {
    const fs = require('node:fs');
    const path = require('node:path');

    /* Children inherit NODE_OPTIONS: leave it as the user set it (a child
     * under the shim gets this file again from its own copy of the shim). */
    function forgetOurselves() {
        const opts = process.env.NODE_OPTIONS;
        const ours = '--require "' + __filename + '"';

        if (typeof opts !== 'string' || !opts.startsWith(ours))
            return;
        const rest = opts.slice(ours.length).replace(/^ /, '');
        if (rest === '')
            delete process.env.NODE_OPTIONS;
        else
            process.env.NODE_OPTIONS = rest;
    }

    function shimLoaded() {
        try {
            return fs.readFileSync('/proc/self/maps', 'latin1')
                .includes(path.join(__dirname, 'libspanshim.so'));
        } catch (e) {
            return false;
        }
    }

    forgetOurselves();
    if (!shimLoaded())
        return;

    const dc = require('node:diagnostics_channel');
    const { AsyncLocalStorage } = require('node:async_hooks');
    const current = new AsyncLocalStorage();
    const served = new WeakMap(); /* socket -> requests read on it so far */
    /* Keep in step with ss_hint.h. */
    const MARK = '00-5350414e5348494d';
    const NONE = 0xffffffff;

    function hex(v, n) {
        return (v >>> 0).toString(16).padStart(n, '0');
    }

    function hint(inbound) {
        const s = inbound.socket;
        /* A closed socket's fd may be another connection's by now. */
        const open = s && !s.destroyed && s._handle && s._handle.fd === inbound.fd;
        const fd = open ? inbound.fd : NONE;

        return MARK + hex(fd, 8) + hex(inbound.peerPort, 4) + hex(inbound.localPort, 4) +
            '-' + hex(0, 8) + hex(inbound.seq, 8) + '-00';
    }

    dc.subscribe('http.server.request.start', (msg) => {
        const socket = msg.socket;
        const seq = (served.get(socket) || 0) + 1;
        const fd = socket && socket._handle ? socket._handle.fd : -1;

        served.set(socket, seq);
        if (typeof fd !== 'number' || fd < 0)
            return; /* not a plain socket (TLS, a pipe in a test): no hint */
        current.enterWith({ socket, fd, seq, peerPort: socket.remotePort || 0,
                            localPort: socket.localPort || 0 });
    });

    /* Node 20 publishes 'http.client.request.start' only once the head is
     * laid out, too late for a header; every ClientRequest with an agent
     * passes Agent#addRequest while it still takes one. */
    const http = require('node:http');
    const addRequest = http.Agent.prototype.addRequest;

    http.Agent.prototype.addRequest = function spanshimAddRequest(req, ...rest) {
        const inbound = current.getStore();

        if (inbound && this.protocol === 'http:' && !req._header) {
            try {
                if (req.getHeader('traceparent') === undefined)
                    req.setHeader('traceparent', hint(inbound));
            } catch (e) {
                /* a request the program already finished with: leave it */
            }
        }
        return addRequest.call(this, req, ...rest);
    };

    function hasTraceparent(headers) {
        if (Array.isArray(headers)) {
            for (let i = 0; i < headers.length; i += 2)
                if (String(headers[i]).toLowerCase() === 'traceparent')
                    return true;
            return false;
        }
        return typeof headers === 'string' && /(^|\r\n)traceparent\s*:/i.test(headers);
    }

    dc.subscribe('undici:request:create', (msg) => {
        const inbound = current.getStore();
        const req = msg.request;

        if (!inbound || typeof req.origin !== 'string' || !req.origin.startsWith('http:') ||
            hasTraceparent(req.headers))
            return;
        if (typeof req.addHeader === 'function')
            req.addHeader('traceparent', hint(inbound));
        else if (Array.isArray(req.headers))
            req.headers.push('traceparent', hint(inbound));
        else if (typeof req.headers === 'string')
            req.headers += 'traceparent: ' + hint(inbound) + '\r\n';
    });
})();
