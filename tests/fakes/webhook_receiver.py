#!/usr/bin/env python3
"""An HTTP endpoint that records every POST it receives, for tests of customer webhooks and the SMS gateway.

  python3 tests/fakes/webhook_receiver.py --port N --dir DIR [--host 127.0.0.1]

Every POST (any path) is answered 200 {"ok":true} and appended to DIR/requests.jsonl as one JSON line:
{"seq","time","method","path","headers" (names lower-cased),"body" (the raw body as text),"status" (what was
answered),"fault"}. Nothing is verified here (signatures are the test's business, with its own code). With
--port 0 the bound port is written to DIR/port (atomically, once listening). SIGTERM stops it.

Control (never recorded, never subject to faults):
  POST   /__control/faults    {"count": N, "status": 500, "path_prefix": "/", "delay_ms": 0}
                              the next N matching POSTs are answered `status` (after `delay_ms`)
  DELETE /__control/faults    clears the faults
  GET    /__control/requests  {"count", "items"}: what requests.jsonl holds
  GET    /__control/health    {"ok": true}
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import fakecommon


class State:
    def __init__(self, directory):
        self.dir = directory
        self.log_path = os.path.join(directory, "requests.jsonl")
        self.lock = threading.Lock()
        self.faults = []
        self.seq = 0
        if os.path.exists(self.log_path):
            with open(self.log_path, encoding="utf-8") as f:
                self.seq = sum(1 for line in f if line.strip())

    def take_fault(self, path):
        with self.lock:
            for rule in self.faults:
                if rule["remaining"] > 0 and path.startswith(rule["path_prefix"]):
                    rule["remaining"] -= 1
                    rule["hits"] += 1
                    return dict(rule)
        return None

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
                f.flush()

    def requests(self):
        with self.lock:
            if not os.path.exists(self.log_path):
                return []
            with open(self.log_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]


class Handler(BaseHTTPRequestHandler):
    NAME = "webhook_receiver"
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"
    sys_version = ""
    state = None

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        return fakecommon.read_request_body(self)

    def reply(self, status, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def control(self, method, body):
        path = self.path.split("?", 1)[0]
        if path == "/__control/health":
            return 200, {"ok": True, "port": self.server.server_address[1]}
        if path == "/__control/requests" and method == "GET":
            items = self.state.requests()
            return 200, {"count": len(items), "items": items}
        if path == "/__control/faults":
            if method == "DELETE":
                with self.state.lock:
                    self.state.faults = []
                return 200, {"ok": True}
            if method == "POST":
                try:
                    data = json.loads(body or b"{}")
                except ValueError:
                    return 400, {"error": "control bodies are JSON"}
                rule = {"remaining": int(data.get("count", 1)), "status": int(data.get("status", 500)),
                        "path_prefix": data.get("path_prefix", "/"), "delay_ms": int(data.get("delay_ms", 0)),
                        "hits": 0}
                with self.state.lock:
                    self.state.faults.append(rule)
                return 200, rule
            if method == "GET":
                with self.state.lock:
                    return 200, {"items": self.state.faults}
        return 404, {"error": "no such control endpoint"}

    def dispatch(self):
        try:
            body = self.read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        if self.path.startswith("/__control"):
            status, obj = self.control(self.command, body)
            self.reply(status, obj)
            return
        if self.command != "POST":
            self.reply(405, {"error": "POST only"})
            return
        fault = self.state.take_fault(self.path)
        status = fault["status"] if fault else 200
        if fault and fault["delay_ms"] > 0:
            time.sleep(fault["delay_ms"] / 1000.0)
        entry = {"time": round(time.time(), 3), "method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body.decode("utf-8", "replace"), "status": status, "fault": fault is not None}
        # Recorded before the answer: a client killed while waiting still left its request here.
        self.state.record(entry)
        try:
            self.reply(status, {"ok": status < 300})
        except OSError:
            self.close_connection = True
        sys.stderr.write("webhook_receiver: POST %s -> %d\n" % (self.path, status))
        sys.stderr.flush()

    do_GET = dispatch
    do_POST = dispatch
    do_PUT = dispatch
    do_DELETE = dispatch


def main():
    p = argparse.ArgumentParser(description="records webhook / SMS gateway POSTs for tests")
    p.add_argument("--port", type=int, required=True, help="TCP port; 0 picks one (written to DIR/port)")
    p.add_argument("--dir", required=True, help="where port and requests.jsonl go")
    p.add_argument("--host", default="127.0.0.1")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    Handler.state = State(args.dir)
    fakecommon.listen_and_serve(Handler, args.host, args.port, args.dir, "recording to " + args.dir)

if __name__ == "__main__":
    main()
