"""A stand-in for the collector that also reads log records: a Unix
datagram socket the shim sends to, each datagram decoded here, an
ExportTraceServiceRequest or, after the logs frame (a 0 byte and 'L'), an
ExportLogsServiceRequest (exporter/ex_otlp.h). Only the fields the tests
look at are read, with a protobuf wire reader of a few lines (the OTLP
field numbers are the .proto files' in exporter/proto)."""
import os
import socket
import struct
import tempfile
import threading
import time
import urllib.request

from harness import PRELOAD, Launcher

FRAME_LOGS = b"\0L"


def get(url):
    """A GET: its status and body."""
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.read()


def wait_file(path, proc, timeout=15):
    """The number a starting program writes to path (its port), once there."""
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("did not start: %s" % proc.stderr.read().decode())
        time.sleep(0.02)
    with open(path) as f:
        return int(f.read())


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, value) of each field of a message: an int for a
    varint or a fixed field, bytes for a length-delimited one."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, = struct.unpack_from("<Q", b, i)
            i += 8
        elif wt == 5:
            v, = struct.unpack_from("<I", b, i)
            i += 4
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
            if len(v) != n:
                raise ValueError("truncated")
        else:
            raise ValueError("wire type %d" % wt)
        yield num, v


def _any(b):
    for num, v in fields(b):
        if num == 1:
            return v.decode("utf-8", "surrogateescape")
        if num == 2:
            return bool(v)
        if num == 3:
            return v
    return None


def _attrs(kvs):
    out = {}
    for kv in kvs:
        key = val = None
        for num, v in fields(kv):
            if num == 1:
                key = v.decode()
            elif num == 2:
                val = _any(v)
        out[key] = val
    return out


def _resource(b):
    return _attrs([v for num, v in fields(b) if num == 1])


def decode_logs(body):
    """The records of an ExportLogsServiceRequest, each a dict."""
    out = []
    for num, rl in fields(body):
        if num != 1:
            continue
        res, recs = {}, []
        for n2, v in fields(rl):
            if n2 == 1:
                res = _resource(v)
            elif n2 == 2:
                recs += [r for n3, r in fields(v) if n3 == 2]
        for r in recs:
            rec = {"resource": res, "attributes": {}, "trace_id": "", "span_id": "",
                   "flags": 0, "severity": 0, "severity_text": "", "time": 0, "observed": 0}
            attrs = []
            for n4, v in fields(r):
                if n4 == 1:
                    rec["time"] = v
                elif n4 == 2:
                    rec["severity"] = v
                elif n4 == 3:
                    rec["severity_text"] = v.decode()
                elif n4 == 5:
                    rec["body"] = _any(v)
                elif n4 == 6:
                    attrs.append(v)
                elif n4 == 8:
                    rec["flags"] = v
                elif n4 == 9:
                    rec["trace_id"] = v.hex()
                elif n4 == 10:
                    rec["span_id"] = v.hex()
                elif n4 == 11:
                    rec["observed"] = v
            rec["attributes"] = _attrs(attrs)
            out.append(rec)
    return out


def decode_spans(body):
    """The spans of an ExportTraceServiceRequest: dicts of ids, name, kind,
    attributes and the resource's attributes."""
    out = []
    for num, rs in fields(body):
        if num != 1:
            continue
        res, spans = {}, []
        for n2, v in fields(rs):
            if n2 == 1:
                res = _resource(v)
            elif n2 == 2:
                spans += [s for n3, s in fields(v) if n3 == 2]
        for s in spans:
            sp = {"resource": res, "parent": "", "kind": 0, "attrs": []}
            for n4, v in fields(s):
                if n4 == 1:
                    sp["trace_id"] = v.hex()
                elif n4 == 2:
                    sp["span_id"] = v.hex()
                elif n4 == 4:
                    sp["parent"] = v.hex()
                elif n4 == 5:
                    sp["name"] = v.decode()
                elif n4 == 6:
                    sp["kind"] = v
                elif n4 == 9:
                    sp["attrs"].append(v)
            sp["attributes"] = _attrs(sp.pop("attrs"))
            out.append(sp)
    return out


SERVER = 2


class LogSink(Launcher):
    """The socket the shim sends to, its datagrams decoded as they come."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spanshim-logs.")
        os.chmod(self.dir, 0o755)  # nginx workers run as nobody
        self.sock = os.path.join(self.dir, "c.sock")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.sock)
        os.chmod(self.sock, 0o666)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.lock = threading.Lock()
        self.records, self.span_list, self.errors = [], [], []
        self.stopping = False
        self.procs = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        self.s.settimeout(0.2)
        while not self.stopping:
            try:
                d = self.s.recv(1 << 20)
            except socket.timeout:
                continue
            try:
                if d.startswith(FRAME_LOGS):
                    got = decode_logs(d[2:])
                    with self.lock:
                        self.records += got
                else:
                    got = decode_spans(d)
                    with self.lock:
                        self.span_list += got
            except (ValueError, IndexError, UnicodeDecodeError) as e:
                self.errors.append(repr(e))

    def env(self, service=None, logs="span", **extra):
        env = dict(os.environ)
        env["LD_PRELOAD"] = PRELOAD
        env["SPANSHIM_SOCKET"] = self.sock
        env.pop("OTEL_SERVICE_NAME", None)
        env.pop("SPANSHIM_LOGS", None)
        if logs is not None:
            env["SPANSHIM_LOGS"] = logs
        if service:
            env["OTEL_SERVICE_NAME"] = service
        env.update(extra)
        return env

    def logs(self, pred=None):
        with self.lock:
            return [r for r in self.records if pred is None or pred(r)]

    def spans(self, pred=None):
        with self.lock:
            return [s for s in self.span_list if pred is None or pred(s)]

    def wait(self, what, n, pred=None, timeout=15.0):
        deadline = time.time() + timeout
        while True:
            got = what(pred)
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.05)

    def wait_logs(self, n, pred=None, timeout=15.0):
        return self.wait(self.logs, n, pred, timeout)

    def wait_spans(self, n, pred=None, timeout=15.0):
        return self.wait(self.spans, n, pred, timeout)

    def close(self):
        self.stop_procs()
        self.stopping = True
        self.t.join(timeout=5)
        self.s.close()
