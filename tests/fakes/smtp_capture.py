#!/usr/bin/env python3
"""A real SMTP server that captures every message to a directory, for tests.

  python3 tests/fakes/smtp_capture.py --port N --dir DIR [--host 127.0.0.1] [--require-auth]

Each accepted message is written to DIR/NNNNNN.eml (the DATA bytes exactly as received, dot-unstuffed) and listed
in DIR/index.json: a JSON array of {"file","seq","received_at","peer","helo","mail_from","rcpt_tos","auth_user",
"subject","from","to","message_id","size"} (subject decoded from RFC 2047). The index is rewritten atomically
after each message, so a reader never sees half of it. With --port 0 the bound port is written to DIR/port.

Uses aiosmtpd (Debian package python3-aiosmtpd). When the running interpreter lacks it (e.g. a pyenv python3
first on PATH) the script re-executes itself with /usr/bin/python3; when that lacks it too, a small built-in
asyncio server is used instead (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT, AUTH PLAIN/LOGIN).
Any AUTH credentials are accepted (recorded as auth_user); --require-auth refuses MAIL before AUTH (530).
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
import time
import warnings
from email import policy
from email.parser import BytesParser

warnings.filterwarnings("ignore", message=".*login_data is deprecated.*")
try:
    from aiosmtpd.smtp import SMTP, AuthResult  # type: ignore
    HAVE_AIOSMTPD = True
except ImportError:
    HAVE_AIOSMTPD = False
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and not os.environ.get("SMTP_CAPTURE_REEXEC"):
        os.environ["SMTP_CAPTURE_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])


class Capture:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.index_path = os.path.join(directory, "index.json")
        self.index = []
        if os.path.exists(self.index_path):
            with open(self.index_path, encoding="utf-8") as f:
                self.index = json.load(f)

    def save(self, peer, helo, mail_from, rcpt_tos, data, auth_user=None):
        seq = (self.index[-1]["seq"] if self.index else 0) + 1
        name = "%06d.eml" % seq
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.dir, name))
        try:
            msg = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
            subject, from_, to, mid = (str(msg.get(h)) if msg.get(h) is not None else None
                                       for h in ("Subject", "From", "To", "Message-ID"))
        except Exception:  # noqa: BLE001 - a malformed message is still captured
            subject = from_ = to = mid = None
        entry = {"file": name, "seq": seq, "received_at": round(time.time(), 3), "peer": peer, "helo": helo,
                 "mail_from": mail_from, "rcpt_tos": list(rcpt_tos), "auth_user": auth_user, "subject": subject,
                 "from": from_, "to": to, "message_id": mid, "size": len(data)}
        self.index.append(entry)
        tmp = self.index_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.index, f, indent=1, ensure_ascii=False)
        os.replace(tmp, self.index_path)
        sys.stderr.write("smtp_capture: %s from %s to %s subject %r (%d bytes)\n" % (
            name, mail_from, ",".join(rcpt_tos), subject, len(data)))
        sys.stderr.flush()
        return name


# ---- aiosmtpd --------------------------------------------------------------------------------------------
class Handler:
    def __init__(self, capture, require_auth):
        self.capture = capture
        self.require_auth = require_auth

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        peer = "%s:%s" % tuple(session.peer[:2]) if session.peer else None
        user = None
        if session.auth_data is not None:
            user = getattr(session.auth_data, "login", None)
            if isinstance(user, bytes):
                user = user.decode("utf-8", "replace")
        data = envelope.original_content or envelope.content
        name = self.capture.save(peer, session.host_name, envelope.mail_from, envelope.rcpt_tos, data, user)
        return "250 2.0.0 Ok: queued as %s" % name


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, handled=False, auth_data=auth_data) if HAVE_AIOSMTPD else None


# ---- fallback -----------------------------------------------------------------------------------------
class MiniSMTP(asyncio.Protocol):
    """Line-oriented SMTP, enough for libcurl, smtplib and swaks."""

    def __init__(self, capture, require_auth):
        self.capture = capture
        self.require_auth = require_auth
        self.buf = b""
        self.reset()
        self.helo = None
        self.auth_user = None
        self.state = "cmd"  # cmd | data | auth_plain | auth_login_user | auth_login_pass

    def reset(self):
        self.mail_from = None
        self.rcpts = []
        self.data = []

    def connection_made(self, transport):
        self.t = transport
        p = transport.get_extra_info("peername")
        self.peer = "%s:%s" % p[:2] if p else None
        self.send("220 localhost smtp_capture ESMTP")

    def send(self, line):
        self.t.write(line.encode() + b"\r\n")

    def data_received(self, chunk):
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.line(line[:-1] if line.endswith(b"\r") else line)

    def line(self, line):
        if self.state == "data":
            if line == b".":
                data = b"".join(l + b"\r\n" for l in self.data)
                name = self.capture.save(self.peer, self.helo, self.mail_from, self.rcpts, data, self.auth_user)
                self.send("250 2.0.0 Ok: queued as %s" % name)
                self.reset()
                self.state = "cmd"
            else:
                self.data.append(line[1:] if line.startswith(b".") else line)
            return
        text = line.decode("utf-8", "replace")
        if self.state == "auth_plain":
            self.state = "cmd"
            return self.auth_plain(text)
        if self.state == "auth_login_user":
            self.auth_user = self.b64(text)
            self.state = "auth_login_pass"
            return self.send("334 UGFzc3dvcmQ6")
        if self.state == "auth_login_pass":
            self.state = "cmd"
            return self.send("235 2.7.0 Authentication successful")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if verb == "EHLO":
            self.helo = arg
            self.reset()
            self.t.write(b"250-localhost\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n"
                         b"250 HELP\r\n")
        elif verb == "HELO":
            self.helo = arg
            self.reset()
            self.send("250 localhost")
        elif verb == "AUTH":
            mech, _, initial = arg.partition(" ")
            if mech.upper() == "PLAIN":
                if initial:
                    self.auth_plain(initial)
                else:
                    self.state = "auth_plain"
                    self.send("334 ")
            elif mech.upper() == "LOGIN":
                if initial:
                    self.auth_user = self.b64(initial)
                    self.state = "auth_login_pass"
                    self.send("334 UGFzc3dvcmQ6")
                else:
                    self.state = "auth_login_user"
                    self.send("334 VXNlcm5hbWU6")
            else:
                self.send("504 5.5.4 Unrecognized authentication type")
        elif verb == "MAIL":
            if self.require_auth and self.auth_user is None:
                return self.send("530 5.7.0 Authentication required")
            if not arg.upper().startswith("FROM:"):
                return self.send("501 5.5.4 Syntax: MAIL FROM:<address>")
            self.reset()
            self.mail_from = self.addr(arg[5:])
            self.send("250 OK")
        elif verb == "RCPT":
            if self.mail_from is None:
                return self.send("503 5.5.1 Error: need MAIL command")
            if not arg.upper().startswith("TO:"):
                return self.send("501 5.5.4 Syntax: RCPT TO:<address>")
            self.rcpts.append(self.addr(arg[3:]))
            self.send("250 OK")
        elif verb == "DATA":
            if not self.rcpts:
                return self.send("503 5.5.1 Error: need RCPT command")
            self.state = "data"
            self.send("354 End data with <CR><LF>.<CR><LF>")
        elif verb == "RSET":
            self.reset()
            self.send("250 OK")
        elif verb == "NOOP":
            self.send("250 OK")
        elif verb == "VRFY":
            self.send("252 Cannot VRFY user, but will accept message and attempt delivery")
        elif verb == "QUIT":
            self.send("221 Bye")
            self.t.close()
        else:
            self.send('500 Error: command "%s" not recognized' % verb)

    @staticmethod
    def addr(s):
        s = s.strip()
        if s.startswith("<"):
            return s[1:s.index(">")] if ">" in s else s[1:]
        return s.split(" ")[0]

    @staticmethod
    def b64(s):
        try:
            return base64.b64decode(s.strip()).decode("utf-8", "replace")
        except ValueError:
            return None

    def auth_plain(self, text):
        decoded = self.b64(text)
        if decoded is None or decoded.count("\0") != 2:
            return self.send("501 5.5.2 Can't decode base64")
        self.auth_user = decoded.split("\0")[1]
        self.send("235 2.7.0 Authentication successful")


async def run(args):
    capture = Capture(args.dir)
    loop = asyncio.get_running_loop()
    if HAVE_AIOSMTPD:
        def factory():
            return SMTP(Handler(capture, args.require_auth), hostname="localhost", ident="smtp_capture",
                        auth_require_tls=False, authenticator=accept_any, data_size_limit=33554432,
                        enable_SMTPUTF8=True)
        kind = "aiosmtpd"
    else:
        def factory():
            return MiniSMTP(capture, args.require_auth)
        kind = "built-in"
    server = await loop.create_server(factory, args.host, args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, os.path.join(args.dir, "port"))
    sys.stderr.write("smtp_capture (%s): listening on %s:%d, capturing to %s\n" % (kind, args.host, port, args.dir))
    sys.stderr.flush()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()


def main():
    p = argparse.ArgumentParser(description="capturing SMTP server for tests")
    p.add_argument("--port", type=int, required=True, help="TCP port; 0 picks one (written to DIR/port)")
    p.add_argument("--dir", required=True, help="where the .eml files and index.json go")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--require-auth", action="store_true", help="answer 530 to MAIL before AUTH")
    p.add_argument("--builtin", action="store_true", help="use the built-in server even if aiosmtpd is there")
    args = p.parse_args()
    if args.builtin:
        global HAVE_AIOSMTPD
        HAVE_AIOSMTPD = False
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
