#!/usr/bin/env python3
"""A stand-in for the Razorpay API (https://api.razorpay.com/v1) for tests. Standard library only.

  python3 tests/fakes/fake_razorpay.py --port N --state-dir DIR [--key-id ID --key-secret SECRET]

Speaks Razorpay's wire protocol: HTTP Basic auth (the header must be exactly "Basic <base64(id:secret)>"),
JSON bodies, amounts as integers in paise, errors as
{"error":{"code","description","field","source","step","reason","metadata"}} and "not found" as a 400.

API:   POST /v1/orders, GET /v1/orders/:id, GET /v1/orders/:id/payments, GET /v1/payments/:id,
       POST /v1/payments/:id/capture, POST /v1/payments/:id/refund (X-Refund-Idempotency),
       GET /v1/payments/:id/refunds, GET /v1/refunds/:id
Control (no auth, see README.md): /__control/health, reset, state, requests, faults,
       POST /__control/orders/:id/pay, GET /__control/events
"""

import base64
import hashlib
import hmac
import json
import re
import sys

sys.dont_write_bytecode = True  # write nothing outside --state-dir (no __pycache__ here)
import fakecommon as fc  # noqa: E402
from fakecommon import Reply, new_id, now  # noqa: E402

CURRENCIES = {"INR", "USD", "EUR", "GBP", "SGD", "AED", "AUD", "CAD", "MYR"}
ORDER_FIELDS = {"amount", "currency", "receipt", "notes", "partial_payment", "first_payment_min_amount",
                "payment_capture", "unique_receipt", "method", "customer_id", "token", "offer_id", "bank_account"}
REFUND_FIELDS = {"amount", "speed", "receipt", "notes"}
CAPTURE_FIELDS = {"amount", "currency"}
IDEM_RE = re.compile(r"^[A-Za-z0-9_-]{10,}$")


def err(status, description, field=None, code="BAD_REQUEST_ERROR", source="business", step="payment_initiation",
        reason="input_validation_failed", store=True):
    return Reply(status, {"error": {"code": code, "description": description, "source": source, "step": step,
                                    "reason": reason, "metadata": {}, "field": field}}, store=store)


def invalid(description, field=None):
    # validation errors happen before the endpoint runs: not remembered under an idempotency key
    return err(400, description, field, store=False)


def not_found():
    return err(400, "The id provided does not exist", None, source="business", step="payment_initiation",
               reason="input_validation_failed", store=False)


def notes_out(notes):
    return notes if notes else []  # Razorpay (PHP) renders empty notes as []


def check_notes(notes):
    if notes is None:
        return {}
    if isinstance(notes, list) and not notes:
        return {}
    if not isinstance(notes, dict):
        raise invalid("The notes must be an array.", "notes")
    if len(notes) > 15:
        raise invalid("Number of fields in notes should be less than or equal to 15", "notes")
    for k, v in notes.items():
        if not isinstance(v, (str, int, float)) or len(str(v)) > 256:
            raise invalid("The notes.%s may not be greater than 256 characters." % k, "notes")
    return notes


def check_amount(v, minimum=100, currency="INR"):
    if v is None:
        raise invalid("The amount field is required.", "amount")
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, str) and v.isdigit():
            v = int(v)
        else:
            raise invalid("The amount must be an integer.", "amount")
    if v < minimum:
        raise invalid("The amount must be at least %s %d.%02d" % (currency, minimum // 100, minimum % 100), "amount")
    return v


def extra_fields(data, allowed):
    extra = sorted(set(data) - allowed)
    if extra:
        raise err(400, "%s is/are not required and should not be sent" % ", ".join(extra), extra[0],
                  reason="extra_field_sent", store=False)


class RazorpayHandler(fc.FakeHandler):
    NAME = "fake_razorpay"

    # ---- plumbing hooks ---------------------------------------------------------------------------
    def auth_error(self):
        a = self.args
        want = "Basic " + base64.b64encode(("%s:%s" % (a.key_id, a.key_secret)).encode()).decode()
        got = self.headers.get("Authorization")
        if got is None:
            return err(401, "Please provide your api key for authentication purposes.", None, source="NA",
                       step="NA", reason="NA")
        if not hmac.compare_digest(got.encode(), want.encode()):
            return err(401, "The api key provided is invalid", None, source="NA", step="NA", reason="NA")
        return None

    def server_error_body(self, status):
        if status in (502, 503, 504):
            return {"error": {"code": "GATEWAY_ERROR", "description": "Gateway timed out. Please try again.",
                              "source": "gateway", "step": "NA", "reason": "NA", "metadata": {}, "field": None}}
        return {"error": {"code": "SERVER_ERROR",
                          "description": "The server encountered an error. The incident has been reported to admins.",
                          "source": "NA", "step": "NA", "reason": "NA", "metadata": {}, "field": None}}

    def idem_key(self, method, path):
        if method == "POST" and re.fullmatch(r"/v1/payments/[^/]+/refund", path):
            k = self.headers.get("X-Refund-Idempotency")
            if k is not None and IDEM_RE.match(k):
                return "refund:" + k
        return None

    def idem_fingerprint(self, method, path, body):
        try:
            canon = json.dumps(json.loads(body or b"{}"), sort_keys=True, separators=(",", ":"))
        except ValueError:
            canon = body.decode("utf-8", "replace")
        return method + " " + path + " " + canon

    def idem_conflict(self, key, rec):
        return err(400, "Idempotency key already used for a different request. Use a new X-Refund-Idempotency "
                        "key for a different refund.", None, reason="idempotency_key_reused", store=False)

    def idem_inflight(self, key):
        return err(409, "A request with the same idempotency key is being processed. Retry after some time.",
                   None, reason="request_in_progress", store=False)

    # ---- helpers -----------------------------------------------------------------------------------
    @property
    def d(self):
        return self.store.data

    def json_body(self, body):
        if not body:
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            raise invalid("The request body is not valid JSON.")
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        return data

    def order_out(self, o):
        return {**o, "notes": notes_out(o["notes"])}

    def payment_out(self, p):
        return {**p, "notes": notes_out(p["notes"])}

    def refund_out(self, r):
        return {**r, "notes": notes_out(r["notes"])}

    def event(self, name, **entities):
        payload = {k: {"entity": v} for k, v in entities.items()}
        ev = {"entity": "event", "account_id": "acc_FakeAccount0001", "event": name,
              "contains": list(entities), "payload": payload, "created_at": now(),
              "id": new_id("evt_")}
        self.d["events"].append(ev)

    def find_payment(self, pid):
        p = self.d["payments"].get(pid)
        if p is None:
            raise not_found()
        return p

    # ---- API ---------------------------------------------------------------------------------------
    def route(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "v1":
            raise err(404, "The requested URL was not found on the server.", None, source="NA", step="NA",
                      reason="NA", store=False)
        parts = parts[1:]
        if parts == ["orders"] and method == "POST":
            return self.create_order(self.json_body(body))
        if len(parts) == 2 and parts[0] == "orders" and method == "GET":
            o = self.d["orders"].get(parts[1])
            if o is None:
                raise not_found()
            return 200, self.order_out(o), {}
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "payments" and method == "GET":
            if parts[1] not in self.d["orders"]:
                raise not_found()
            items = [self.payment_out(p) for p in self.d["payments"].values() if p["order_id"] == parts[1]]
            items.reverse()
            return 200, {"entity": "collection", "count": len(items), "items": items}, {}
        if len(parts) == 2 and parts[0] == "payments" and method == "GET":
            return 200, self.payment_out(self.find_payment(parts[1])), {}
        if len(parts) == 3 and parts[0] == "payments" and parts[2] == "capture" and method == "POST":
            return self.capture(parts[1], self.json_body(body))
        if len(parts) == 3 and parts[0] == "payments" and parts[2] == "refund" and method == "POST":
            return self.refund(parts[1], self.json_body(body))
        if len(parts) == 3 and parts[0] == "payments" and parts[2] == "refunds" and method == "GET":
            self.find_payment(parts[1])
            items = [self.refund_out(r) for r in self.d["refunds"].values() if r["payment_id"] == parts[1]]
            items.reverse()
            return 200, {"entity": "collection", "count": len(items), "items": items}, {}
        if len(parts) == 2 and parts[0] == "refunds" and method == "GET":
            r = self.d["refunds"].get(parts[1])
            if r is None:
                raise not_found()
            return 200, self.refund_out(r), {}
        raise err(404, "The requested URL was not found on the server.", None, source="NA", step="NA",
                  reason="NA", store=False)

    def create_order(self, data):
        extra_fields(data, ORDER_FIELDS)
        currency = data.get("currency")
        if currency is None:
            raise invalid("The currency field is required.", "currency")
        if not isinstance(currency, str) or currency not in CURRENCIES:
            raise invalid("The selected currency is invalid.", "currency")
        amount = check_amount(data.get("amount"), 100, currency)
        receipt = data.get("receipt")
        if receipt is not None:
            if not isinstance(receipt, str):
                raise invalid("The receipt must be a string.", "receipt")
            if len(receipt) > 40:
                raise invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = check_notes(data.get("notes"))
        pp = data.get("partial_payment", False)
        if not isinstance(pp, bool):
            raise invalid("The partial payment field must be true or false.", "partial_payment")
        if data.get("unique_receipt"):
            if receipt is None:
                raise invalid("The receipt field is required when unique receipt is true.", "receipt")
            for o in self.d["orders"].values():
                if o["receipt"] == receipt:
                    if o["amount"] != amount or o["currency"] != currency:
                        raise invalid("Order receipt should be unique: an order with receipt %s exists with a "
                                      "different amount or currency." % receipt, "receipt")
                    return 200, self.order_out(o), {}
        o = {"id": new_id("order_"), "entity": "order", "amount": amount, "amount_paid": 0, "amount_due": amount,
             "currency": currency, "receipt": receipt, "offer_id": None, "status": "created", "attempts": 0,
             "notes": notes, "created_at": now()}
        if pp:
            o["partial_payment"] = True
        self.d["orders"][o["id"]] = o
        return 200, self.order_out(o), {}

    def capture(self, pid, data):
        p = self.find_payment(pid)
        extra_fields(data, CAPTURE_FIELDS)
        amount = check_amount(data.get("amount"), 100, p["currency"])
        if data.get("currency") is None:
            raise invalid("The currency field is required.", "currency")
        if data["currency"] != p["currency"]:
            raise invalid("Currency should be same as payment currency.", "currency")
        if p["status"] != "authorized":
            if p["captured"]:
                raise err(400, "This payment has already been captured", None, step="payment_capture",
                          reason="NA", store=False)
            raise err(400, "Only payments which have been authorized and not yet captured can be captured", None,
                      step="payment_capture", reason="NA", store=False)
        if amount != p["amount"]:
            raise invalid("Capture amount must be equal to the amount authorized", "amount")
        self.do_capture(p)
        return 200, self.payment_out(p), {}

    def do_capture(self, p):
        p["status"] = "captured"
        p["captured"] = True
        p["fee"] = (p["amount"] * 2 + 99) // 100  # 2 % MDR, GST on the fee included (Razorpay's fee includes tax)
        p["tax"] = p["fee"] * 18 // 118
        o = self.d["orders"].get(p["order_id"])
        self.event("payment.captured", payment=self.payment_out(p))
        if o is not None:
            o["amount_paid"] += p["amount"]
            o["amount_due"] = max(0, o["amount"] - o["amount_paid"])
            o["status"] = "paid" if o["amount_due"] == 0 else "attempted"
            if o["status"] == "paid":
                self.event("order.paid", payment=self.payment_out(p), order=self.order_out(o))

    def refund(self, pid, data):
        raw_key = self.headers.get("X-Refund-Idempotency")
        if raw_key is not None and not IDEM_RE.match(raw_key):
            raise invalid("X-Refund-Idempotency must be at least 10 characters of A-Z, a-z, 0-9, _ and -.",
                          "X-Refund-Idempotency")
        p = self.find_payment(pid)
        extra_fields(data, REFUND_FIELDS)
        remaining = p["amount"] - p["amount_refunded"]
        if p["status"] == "refunded" or (p["captured"] and remaining <= 0):
            raise err(400, "The payment has been fully refunded already", None, step="NA", reason="NA",
                      store=False)
        if p["status"] != "captured":
            raise err(400, "Only captured payments can be refunded", None, step="NA", reason="NA", store=False)
        amount = data.get("amount")
        amount = remaining if amount is None else check_amount(amount, 100, p["currency"])
        if amount > remaining:
            raise invalid("The refund amount provided is greater than amount captured", "amount")
        speed = data.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise invalid("The selected speed is invalid.", "speed")
        receipt = data.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = check_notes(data.get("notes"))
        r = {"id": new_id("rfnd_"), "entity": "refund", "amount": amount, "currency": p["currency"],
             "payment_id": pid, "notes": notes, "receipt": receipt, "acquirer_data": {"arn": None},
             "created_at": now(), "batch_id": None, "status": "processed", "speed_processed": "normal",
             "speed_requested": speed}
        self.d["refunds"][r["id"]] = r
        p["amount_refunded"] += amount
        p["refund_status"] = "full" if p["amount_refunded"] == p["amount"] else "partial"
        if p["refund_status"] == "full":
            p["status"] = "refunded"
        self.event("refund.created", refund=self.refund_out(r), payment=self.payment_out(p))
        self.event("refund.processed", refund=self.refund_out(r), payment=self.payment_out(p))
        return 200, self.refund_out(r), {}

    # ---- /__control/ -------------------------------------------------------------------------------
    def control(self, method, parts, query, data):
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "pay" and method == "POST":
            o = self.d["orders"].get(parts[1])
            if o is None:
                raise Reply(404, {"error": "no such order"})
            status = data.get("status", "captured")
            if status not in ("authorized", "captured", "failed"):
                raise Reply(400, {"error": "status is authorized, captured or failed"})
            if o["status"] == "paid":
                raise Reply(409, {"error": "order already paid"})
            amount = int(data.get("amount", o["amount_due"]))
            method_ = data.get("method", "upi")
            p = {"id": new_id("pay_"), "entity": "payment", "amount": amount, "currency": o["currency"],
                 "status": "authorized", "order_id": o["id"], "invoice_id": None, "international": False,
                 "method": method_, "amount_refunded": 0, "refund_status": None, "captured": False,
                 "description": data.get("description"), "card_id": None, "bank": None, "wallet": None,
                 "vpa": "success@razorpay" if method_ == "upi" else None,
                 "email": data.get("email", "customer@example.com"), "contact": data.get("contact", "+919876543210"),
                 "notes": o["notes"], "fee": None, "tax": None, "error_code": None, "error_description": None,
                 "error_source": None, "error_step": None, "error_reason": None,
                 "acquirer_data": {"rrn": "".join(str((int(c, 36)) % 10) for c in new_id("", 12))},
                 "created_at": now()}
            o["attempts"] += 1
            if o["status"] == "created":
                o["status"] = "attempted"
            self.d["payments"][p["id"]] = p
            if status == "failed":
                p.update(status="failed", error_code="BAD_REQUEST_ERROR",
                         error_description="Payment failed because the customer cancelled it.",
                         error_source="customer", error_step="payment_authentication",
                         error_reason=data.get("error_reason", "payment_cancelled"))
                self.event("payment.failed", payment=self.payment_out(p))
            else:
                self.event("payment.authorized", payment=self.payment_out(p))
                if status == "captured":
                    self.do_capture(p)
            sig = hmac.new(self.args.key_secret.encode(), ("%s|%s" % (o["id"], p["id"])).encode(),
                           hashlib.sha256).hexdigest()
            return 200, {"payment": self.payment_out(p), "order": self.order_out(o),
                         "razorpay_order_id": o["id"], "razorpay_payment_id": p["id"], "razorpay_signature": sig}
        if parts == ["events"] and method == "GET":
            return 200, {"count": len(self.d["events"]), "items": self.d["events"]}
        raise Reply(404, {"error": "no such control endpoint"})


def main():
    p = fc.common_args("fake Razorpay API")
    p.add_argument("--key-id", default="rzp_test_FakeKeyId000001")
    p.add_argument("--key-secret", default="rzp_test_secret_NOT_REAL")
    args = p.parse_args()
    fc.serve(RazorpayHandler, args, lambda: {"orders": {}, "payments": {}, "refunds": {}, "events": [],
                                             "idempotency": {}})


if __name__ == "__main__":
    sys.exit(main())
