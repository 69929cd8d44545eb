"""Shared plumbing of the fake payment gateways (fake_razorpay.py, fake_stripe.py).

Standard library only. Provides:
  * a ThreadingHTTPServer speaking HTTP/1.1 (keep-alive, Content-Length or chunked request bodies);
  * --port N (0 = pick a free one) / --state-dir DIR / --host; the bound port is written to DIR/port;
  * state kept in memory and saved to DIR/state.json after every change (re-read at start-up);
  * a request log (memory + DIR/requests.jsonl) and a brief line per request on stderr;
  * failure injection (HTTP status, delay, dropped connection; before or after the request takes effect),
    scoped by method and path prefix;
  * idempotency bookkeeping: one in-flight request per key (the others get the gateway's 409) and stored
    responses replayed for a repeated key;
  * the /__control/ endpoints common to both fakes (no auth; never logged, never subject to faults).

A gateway subclasses FakeHandler and implements route(), auth_error(), server_error_body() and, when it has an
idempotency header, idem_key() / idem_conflict() / idem_inflight().
"""

import argparse
import json
import os
import secrets
import signal
import socket
import string
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ALNUM = string.ascii_letters + string.digits


def new_id(prefix, n=14):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def now():
    return int(time.time())


class Reply(Exception):
    """Raised by route handlers to answer with an error (status, JSON body, extra headers).
    store=False: an idempotent request ending so is not remembered (validation before the endpoint ran)."""

    def __init__(self, status, body, headers=None, store=True):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.store = store


class Dropped(Exception):
    pass


class Store:
    """All mutable state of one fake, guarded by one lock, persisted under the state directory."""

    def __init__(self, state_dir, initial):
        self.dir = state_dir
        self.lock = threading.RLock()
        self.path = os.path.join(state_dir, "state.json")
        self.log_path = os.path.join(state_dir, "requests.jsonl")
        self.initial = initial
        self.data = initial()
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self.data.update(json.load(f))
        self.requests = []  # the request log (also appended to requests.jsonl)
        self.seq = 0
        if os.path.exists(self.log_path):
            with open(self.log_path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        self.requests.append(json.loads(line))
            self.seq = max((r["seq"] for r in self.requests), default=0)
        self.faults = []  # not persisted: a restart clears injected faults
        self.fault_seq = 0
        self.inflight = set()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)

    def reset(self):
        with self.lock:
            self.data = self.initial()
            self.requests = []
            self.faults = []
            self.save()
            open(self.log_path, "w").close()

    def log(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    def take_fault(self, method, path):
        with self.lock:
            for rule in self.faults:
                if rule["remaining"] == 0:
                    continue
                if rule.get("method") and rule["method"].upper() != method:
                    continue
                if not path.startswith(rule.get("path_prefix", "/")):
                    continue
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    continue
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                rule["hits"] += 1
                return dict(rule)
        return None


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    sys_version = ""
    NAME = "fake"
    store = None  # set by serve()
    args = None

    # ---- overridden by the gateways --------------------------------------------------------------
    def route(self, method, path, query, body):
        raise Reply(404, {"error": "not found"})

    def auth_error(self):
        """None when the request is authorised, else a Reply."""
        return None

    def server_error_body(self, status):
        return {"error": "server error"}

    def extra_headers(self):
        return {}

    def idem_key(self, method, path):
        return None

    def idem_inflight(self, key):
        return Reply(409, {"error": "in flight"}, store=False)

    def control(self, method, parts, query, body):
        """Gateway-specific /__control/ routes; parts = path split after /__control/."""
        raise Reply(404, {"error": "no such control endpoint"})

    # ---- plumbing ---------------------------------------------------------------------------------
    def log_message(self, fmt, *args):  # silence the default access log; we log our own line
        pass

    def read_body(self):
        return read_request_body(self)

    def send_json(self, status, obj, headers=None):
        data = (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def drop(self, reset=False):
        self.close_connection = True
        try:
            if reset:  # RST instead of FIN: curl reports "Connection reset by peer"
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Dropped()

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def dispatch(self):
        started = time.time()
        method = self.command
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            body = self.read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        if path.startswith("/__control/") or path == "/__control":
            try:
                status, obj = self.control_common(method, path, query, body)
            except Reply as r:
                status, obj = r.status, r.body
            except Exception as e:  # noqa: BLE001 - a broken control call must not kill the fake
                status, obj = 500, {"error": repr(e)}
            try:
                self.send_json(status, obj)
            except OSError:
                self.close_connection = True
            return
        entry = {
            "time": round(started, 3), "method": method, "path": path, "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "status": None, "fault": None,
        }
        status = None
        try:
            status = self.handle_api(method, path, query, body, entry)
        except Dropped:
            status = "dropped"
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            status = status or "client gone"
        finally:
            entry["status"] = status
            entry["ms"] = round((time.time() - started) * 1000, 1)
            self.store.log(entry)
            sys.stderr.write("%s: %s %s -> %s%s%s (%.0f ms)\n" % (
                self.NAME, method, self.path, status, " [replayed]" if entry.get("replayed") else "",
                " [fault %s]" % entry["fault"]["mode"] if entry["fault"] else "", entry["ms"]))
            sys.stderr.flush()

    def handle_api(self, method, path, query, body, entry):
        st = self.store
        fault = st.take_fault(method, path)
        entry["fault"] = fault
        err = self.auth_error()
        if err is not None:
            self.send_json(err.status, err.body, {**self.extra_headers(), **err.headers})
            return err.status
        key = self.idem_key(method, path)
        if key is not None:
            with st.lock:
                if key in st.inflight:
                    r = self.idem_inflight(key)
                    self.send_json(r.status, r.body, {**self.extra_headers(), **r.headers})
                    return r.status
                st.inflight.add(key)
        try:
            phase = fault.get("phase", "before") if fault else None
            if fault and phase == "before":
                if fault["mode"] == "delay":
                    time.sleep(fault.get("delay_ms", 5000) / 1000.0)
                elif fault["mode"] == "drop":
                    self.drop(fault.get("reset", False))
                elif fault["mode"] == "status":
                    s = fault.get("status", 500)
                    b = fault.get("body") or self.server_error_body(s)
                    h = {**self.extra_headers(), **(fault.get("headers") or {})}
                    if fault.get("record") and key is not None:
                        self.idem_store(key, method, path, body, s, b, h)
                    self.send_json(s, b, h)
                    return s
            replay = None
            if key is not None:
                with st.lock:
                    rec = st.data.setdefault("idempotency", {}).get(key)
                if rec is not None:
                    if rec["fingerprint"] != self.idem_fingerprint(method, path, body):
                        r = self.idem_conflict(key, rec)
                        status, obj, headers = r.status, r.body, r.headers
                    else:
                        status, obj = rec["status"], rec["body"]
                        headers = self.idem_replay_headers(rec)
                    replay = True
                    entry["replayed"] = True
            if replay is None:
                store = True
                with st.lock:
                    try:
                        status, obj, headers = self.route(method, path, query, body)
                    except Reply as r:
                        status, obj, headers, store = r.status, r.body, r.headers, r.store
                    st.save()
                headers = {**self.extra_headers(), **headers}
                if key is not None and store:
                    self.idem_store(key, method, path, body, status, obj, headers)
            if fault and phase == "after":
                if fault["mode"] == "delay":
                    time.sleep(fault.get("delay_ms", 5000) / 1000.0)
                elif fault["mode"] == "drop":
                    self.drop(fault.get("reset", False))
                elif fault["mode"] == "status":
                    s = fault.get("status", 500)
                    b = fault.get("body") or self.server_error_body(s)
                    self.send_json(s, b, {**self.extra_headers(), **(fault.get("headers") or {})})
                    return s
            self.send_json(status, obj, headers)
            return status
        finally:
            if key is not None:
                with st.lock:
                    st.inflight.discard(key)

    def idem_store(self, key, method, path, body, status, obj, headers):
        with self.store.lock:
            self.store.data.setdefault("idempotency", {})[key] = {
                "fingerprint": self.idem_fingerprint(method, path, body), "status": status, "body": obj,
                "headers": headers, "created": now()}
            self.store.save()

    def idem_fingerprint(self, method, path, body):
        return method + " " + path + " " + body.decode("utf-8", "replace")

    def idem_replay_headers(self, rec):
        return {**self.extra_headers(), **rec.get("headers", {})}

    def idem_conflict(self, key, rec):
        return Reply(400, {"error": "idempotency key reused with different parameters"})

    # ---- /__control/ -----------------------------------------------------------------------------
    def control_common(self, method, path, query, body):
        st = self.store
        parts = [p for p in path.split("/")[2:] if p]
        data = {}
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                raise Reply(400, {"error": "control bodies are JSON"})
        if parts == ["health"]:
            return 200, {"ok": True, "name": self.NAME, "port": self.server.server_address[1]}
        if parts == ["reset"] and method == "POST":
            st.reset()
            return 200, {"ok": True}
        if parts == ["state"] and method == "GET":
            with st.lock:
                return 200, st.data
        if parts == ["requests"]:
            if method == "DELETE":
                with st.lock:
                    st.requests = []
                    open(st.log_path, "w").close()
                return 200, {"ok": True}
            prefix = query.get("path_prefix", ["/"])[0]
            m = query.get("method", [None])[0]
            since = int(query.get("since", ["0"])[0])
            with st.lock:
                items = [r for r in st.requests if r["path"].startswith(prefix) and r["seq"] > since
                         and (m is None or r["method"] == m.upper())]
            return 200, {"count": len(items), "items": items}
        if parts == ["faults"]:
            if method == "GET":
                with st.lock:
                    return 200, {"items": st.faults}
            if method == "DELETE":
                with st.lock:
                    st.faults = []
                return 200, {"ok": True}
            if method == "POST":
                mode = data.get("mode", "status")
                if mode not in ("status", "delay", "drop"):
                    raise Reply(400, {"error": "mode is one of status, delay, drop"})
                if data.get("phase", "before") not in ("before", "after"):
                    raise Reply(400, {"error": "phase is before or after"})
                with st.lock:
                    st.fault_seq += 1
                    rule = {
                        "id": st.fault_seq, "mode": mode, "path_prefix": data.get("path_prefix", "/"),
                        "method": data.get("method"), "remaining": int(data.get("count", 1)),
                        "skip": int(data.get("skip", 0)), "phase": data.get("phase", "before"),
                        "status": int(data.get("status", 500)), "delay_ms": int(data.get("delay_ms", 5000)),
                        "reset": bool(data.get("reset", False)), "body": data.get("body"),
                        "headers": data.get("headers"), "record": bool(data.get("record", False)), "hits": 0,
                    }
                    st.faults.append(rule)
                return 200, rule
        with st.lock:
            status, obj = self.control(method, parts, query, data)
            st.save()
        return status, obj


def common_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one (written to DIR/port)")
    p.add_argument("--state-dir", required=True, help="directory holding port, state.json, requests.jsonl")
    p.add_argument("--host", default="127.0.0.1")
    return p


def read_request_body(handler):
    """The request body of a BaseHTTPRequestHandler: Content-Length or chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += handler.rfile.read(size)
            handler.rfile.readline()
    n = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(n) if n > 0 else b""


def listen_and_serve(handler_cls, host, port, directory, banner, on_exit=None):
    """Serves handler_cls on host:port (0: the kernel picks), writes the bound port to directory/port atomically
    once listening, and runs until SIGTERM; then on_exit()."""
    ThreadingHTTPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer((host, port), handler_cls)
    httpd.daemon_threads = True
    bound = httpd.server_address[1]
    tmp = os.path.join(directory, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % bound)
    os.replace(tmp, os.path.join(directory, "port"))
    sys.stderr.write("%s: listening on http://%s:%d (%s)\n" % (handler_cls.NAME, host, bound, banner))
    sys.stderr.flush()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        if on_exit is not None:
            on_exit()


def serve(handler_cls, args, initial_state):
    os.makedirs(args.state_dir, exist_ok=True)
    handler_cls.store = Store(args.state_dir, initial_state)
    handler_cls.args = args

    def save():
        with handler_cls.store.lock:
            handler_cls.store.save()

    listen_and_serve(handler_cls, args.host, args.port, args.state_dir, "state in " + args.state_dir, save)
