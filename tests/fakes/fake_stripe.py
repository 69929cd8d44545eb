#!/usr/bin/env python3
"""A stand-in for the Stripe API (https://api.stripe.com/v1) for tests. Standard library only.

  python3 tests/fakes/fake_stripe.py --port N --state-dir DIR [--secret-key sk_test_...]

Speaks Stripe's wire protocol: "Authorization: Bearer <secret key>" (or Basic with the key as user name and an
empty password), application/x-www-form-urlencoded request bodies with bracketed nested keys
(metadata[invoice_id]=..., payment_method_types[0]=card), JSON responses, a Request-Id header, errors as
{"error":{"type","code","message","param",...}}, and Idempotency-Key on POST (a repeat with the same parameters
replays the first response with "Idempotent-Replayed: true"; different parameters -> 400 idempotency_error;
a concurrent repeat -> 409).

API:   POST /v1/payment_intents, GET /v1/payment_intents/:id, POST /v1/payment_intents/:id/confirm,
       POST /v1/payment_intents/:id/capture, POST /v1/payment_intents/:id/cancel,
       POST /v1/refunds, GET /v1/refunds/:id, GET /v1/charges/:id
Test payment methods: pm_card_visa (and any other pm_...) succeeds; pm_card_chargeDeclined,
       pm_card_visa_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds decline (402 card_error);
       pm_card_authenticationRequired / pm_card_threeDSecure2Required -> requires_action.
Control (no auth, see README.md): /__control/health, reset, state, requests, faults,
       POST /__control/payment_intents/:id/succeed | fail | require_action | processing, GET /__control/events
"""

import base64
import hmac
import re
import sys
from urllib.parse import parse_qsl

sys.dont_write_bytecode = True  # write nothing outside --state-dir (no __pycache__ here)
import fakecommon as fc  # noqa: E402
from fakecommon import Reply, new_id, now  # noqa: E402

CURRENCIES = {"inr": 50, "usd": 50, "eur": 50, "gbp": 30, "sgd": 50, "aed": 200, "aud": 50, "cad": 50}
SYMBOL = {"inr": "₹", "usd": "$", "eur": "€", "gbp": "£"}
PI_CREATE = {"amount", "currency", "automatic_payment_methods", "capture_method", "confirm", "payment_method",
             "payment_method_types", "customer", "description", "metadata", "receipt_email", "return_url",
             "setup_future_usage", "statement_descriptor", "statement_descriptor_suffix", "expand",
             "confirmation_method", "off_session", "error_on_requires_action", "payment_method_options"}
PI_CONFIRM = {"payment_method", "return_url", "expand", "receipt_email", "setup_future_usage", "off_session",
              "error_on_requires_action", "capture_method", "payment_method_options"}
REFUND_CREATE = {"payment_intent", "charge", "amount", "reason", "metadata", "expand", "instructions_email"}
DECLINES = {"pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
            "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
            "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds",
                                                        "Your card has insufficient funds."),
            "pm_card_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired.")}
ACTION = {"pm_card_authenticationRequired", "pm_card_threeDSecure2Required", "pm_card_threeDSecureRequired"}


def serr(status, message, type_="invalid_request_error", code=None, param=None, store=True, **extra):
    e = {"type": type_, "message": message}
    if code:
        e["code"] = code
        e["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
    if param:
        e["param"] = param
    e.update(extra)
    return Reply(status, {"error": e}, store=store)


def invalid(message, param=None, code="parameter_invalid_empty"):
    return serr(400, message, code=code, param=param, store=False)


def parse_form(body):
    """a=1&b[c]=2&d[0]=x&d[1]=y&e[]=z -> {"a":"1","b":{"c":"2"},"d":["x","y"],"e":["z"]} (Stripe's encoding)."""
    out = {}
    for key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        m = re.match(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$", key)
        if not m:
            raise invalid("Invalid parameter name: %s" % key, key, "parameter_unknown")
        path = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = out
        for i, part in enumerate(path):
            last = i == len(path) - 1
            nxt = None if last else path[i + 1]
            child_default = [] if (nxt is not None and (nxt == "" or nxt.isdigit())) else {}
            if isinstance(node, list):
                if part == "" or int(part) >= len(node):
                    node.append(value if last else child_default)
                    idx = len(node) - 1
                else:
                    idx = int(part)
                    if last:
                        node[idx] = value
                node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    if part not in node or not isinstance(node[part], (dict, list)):
                        node[part] = child_default
                    node = node[part]
    return out


def as_int(params, name, required=False):
    v = params.get(name)
    if v is None:
        if required:
            raise invalid("Missing required param: %s." % name, name, "parameter_missing")
        return None
    if not isinstance(v, str) or not re.fullmatch(r"-?\d+", v):
        raise invalid("Invalid integer: %s" % v, name, "parameter_invalid_integer")
    return int(v)


def as_bool(params, name):
    v = params.get(name)
    if v is None:
        return None
    if v not in ("true", "false"):
        raise invalid("Invalid boolean: %s" % v, name, "parameter_invalid_boolean")
    return v == "true"


def check_unknown(params, allowed):
    for k in params:
        if k not in allowed:
            raise invalid("Received unknown parameter: %s" % k, k, "parameter_unknown")


def check_metadata(md):
    if md is None:
        return None
    if md == "":
        return {}
    if not isinstance(md, dict):
        raise invalid("Invalid hash", "metadata", "parameter_invalid_hash")  # noqa
    if len(md) > 50:
        raise invalid("Metadata can have at most 50 keys.", "metadata")
    for k, v in md.items():
        if len(k) > 40:
            raise invalid("Metadata key length can't exceed 40 characters.", "metadata[%s]" % k)
        if not isinstance(v, str) or len(v) > 500:
            raise invalid("Metadata values can have up to 500 characters, but you passed in a value that is "
                          "%d characters." % len(str(v)), "metadata[%s]" % k)
    return {k: v for k, v in md.items() if v != ""}


def money(amount, currency):
    return "%s%s" % (SYMBOL.get(currency, currency.upper() + " "), "{:,.2f}".format(amount / 100))


class StripeHandler(fc.FakeHandler):
    NAME = "fake_stripe"

    # ---- plumbing hooks ---------------------------------------------------------------------------
    def extra_headers(self):
        h = {"Request-Id": new_id("req_"), "Stripe-Version": self.headers.get("Stripe-Version", "2024-06-20")}
        if self.command == "POST" and self.headers.get("Idempotency-Key"):
            h["Idempotency-Key"] = self.headers["Idempotency-Key"]
        return h

    def auth_error(self):
        got = self.headers.get("Authorization")
        key = None
        if got is None:
            return serr(401, "You did not provide an API key. You need to provide your API key in the "
                             "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                             "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we "
                             "can help at https://support.stripe.com/.")
        if got.startswith("Bearer "):
            key = got[7:]
        elif got.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(got[6:], validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, pw = "", "x"
            key = user if pw == "" else None
        if key is None or not hmac.compare_digest(key.encode(), self.args.secret_key.encode()):
            shown = "(none)" if not key else (key[:8] + "*" * (len(key) - 12) + key[-4:] if len(key) > 12
                                              else key[:3] + "*" * max(0, len(key) - 3))
            return serr(401, "Invalid API Key provided: %s" % shown)
        return None

    def server_error_body(self, status):
        return {"error": {"type": "api_error", "message": "An unknown error occurred"}}

    def idem_key(self, method, path):
        if method == "POST":
            k = self.headers.get("Idempotency-Key")
            if k:
                return k
        return None

    def idem_fingerprint(self, method, path, body):
        try:
            params = sorted(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            params = body.hex()
        return "%s %s %r" % (method, path, params)

    def idem_replay_headers(self, rec):
        h = {**rec.get("headers", {}), **self.extra_headers()}
        h["Idempotent-Replayed"] = "true"
        h["Original-Request"] = rec.get("headers", {}).get("Request-Id", "")
        return h

    def idem_conflict(self, key, rec):
        return serr(400, "Keys for idempotent requests can only be used with the same parameters they were first "
                         "used with. Try using a key other than '%s' if you meant to execute a different request."
                    % key, type_="idempotency_error", store=False)

    def idem_inflight(self, key):
        return serr(409, "There is currently another in-progress request using this Idempotent Key (that probably "
                         "means you submitted twice, and the other request is still going through): %s. Please try "
                         "again later." % key, type_="idempotency_error", code="idempotency_key_in_use",
                    store=False)

    # ---- helpers -----------------------------------------------------------------------------------
    @property
    def d(self):
        return self.store.data

    def form(self, body):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body and ctype != "application/x-www-form-urlencoded":
            raise invalid("Invalid request (check that your POST content type is application/x-www-form-"
                          "urlencoded). If you have any questions, we can help at https://support.stripe.com/.",
                          None, None)
        try:
            return parse_form(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid("Invalid UTF-8 in the request body.")

    def event(self, type_, obj):
        self.d["events"].append({"id": new_id("evt_", 24), "object": "event", "api_version": "2024-06-20",
                                 "created": now(), "livemode": False, "pending_webhooks": 1,
                                 "request": {"id": None, "idempotency_key": None}, "type": type_,
                                 "data": {"object": dict(obj)}})

    def get_pi(self, pid):
        pi = self.d["payment_intents"].get(pid)
        if pi is None:
            raise serr(404, "No such payment_intent: '%s'" % pid, code="resource_missing", param="intent",
                       store=False)
        return pi

    def decline(self, pi, code, decline_code, message):
        charge = self.new_charge(pi, "failed")
        charge.update(failure_code=code, failure_message=message)
        pi["status"] = "requires_payment_method"
        err = {"type": "card_error", "code": code, "message": message, "charge": charge["id"],
               "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"),
               "payment_method": {"id": pi["payment_method"], "object": "payment_method", "type": "card"}}
        if decline_code:
            err["decline_code"] = decline_code
        pi["last_payment_error"] = err
        pi["latest_charge"] = charge["id"]
        pi["payment_method"] = None
        self.event("payment_intent.payment_failed", pi)
        return err

    def new_charge(self, pi, status):
        ch = {"id": new_id("ch_", 24), "object": "charge", "amount": pi["amount"],
              "amount_captured": pi["amount"] if status == "succeeded" and pi["capture_method"] != "manual" else 0,
              "amount_refunded": 0, "balance_transaction": new_id("txn_", 24) if status == "succeeded" else None,
              "captured": status == "succeeded" and pi["capture_method"] != "manual", "created": now(),
              "currency": pi["currency"], "customer": pi["customer"], "description": pi["description"],
              "failure_code": None, "failure_message": None, "livemode": False, "metadata": pi["metadata"],
              "paid": status == "succeeded", "payment_intent": pi["id"], "payment_method": pi["payment_method"],
              "refunded": False, "status": status}
        self.d["charges"][ch["id"]] = ch
        return ch

    def attempt(self, pi, pm):
        """Confirm pi with payment method pm: succeed, decline (raises 402) or require action."""
        pi["payment_method"] = pm
        if pm in DECLINES:
            e = self.decline(pi, *DECLINES[pm])
            raise Reply(402, {"error": {**e, "payment_intent": dict(pi)}})
        if pm in ACTION:
            pi["status"] = "requires_action"
            pi["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
            self.event("payment_intent.requires_action", pi)
            return
        self.succeed(pi)

    def succeed(self, pi):
        ch = self.new_charge(pi, "succeeded")
        pi["latest_charge"] = ch["id"]
        pi["next_action"] = None
        pi["last_payment_error"] = None
        if pi["capture_method"] == "manual":
            pi["status"] = "requires_capture"
            pi["amount_capturable"] = pi["amount"]
            self.event("payment_intent.amount_capturable_updated", pi)
        else:
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]
            self.event("charge.succeeded", ch)
            self.event("payment_intent.succeeded", pi)

    # ---- API ---------------------------------------------------------------------------------------
    def route(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "v1":
            raise serr(404, "Unrecognized request URL (%s: %s)." % (method, path), store=False)
        parts = parts[1:]
        params = self.form(body) if method == "POST" else {}
        if parts == ["payment_intents"] and method == "POST":
            return self.create_pi(params)
        if len(parts) == 2 and parts[0] == "payment_intents" and method == "GET":
            return 200, self.get_pi(parts[1]), {}
        if len(parts) == 3 and parts[0] == "payment_intents" and method == "POST":
            pi = self.get_pi(parts[1])
            if parts[2] == "confirm":
                return self.confirm(pi, params)
            if parts[2] == "capture":
                return self.capture(pi, params)
            if parts[2] == "cancel":
                return self.cancel(pi, params)
        if parts == ["refunds"] and method == "POST":
            return self.create_refund(params)
        if len(parts) == 2 and parts[0] == "refunds" and method == "GET":
            r = self.d["refunds"].get(parts[1])
            if r is None:
                raise serr(404, "No such refund: '%s'" % parts[1], code="resource_missing", param="id", store=False)
            return 200, r, {}
        if len(parts) == 2 and parts[0] == "charges" and method == "GET":
            c = self.d["charges"].get(parts[1])
            if c is None:
                raise serr(404, "No such charge: '%s'" % parts[1], code="resource_missing", param="id", store=False)
            return 200, c, {}
        raise serr(404, "Unrecognized request URL (%s: %s)." % (method, path), store=False)

    def create_pi(self, p):
        check_unknown(p, PI_CREATE)
        amount = as_int(p, "amount", True)
        cur = p.get("currency")
        if cur is None:
            raise invalid("Missing required param: currency.", "currency", "parameter_missing")
        if cur not in CURRENCIES:
            raise invalid("Invalid currency: %s. Stripe currently supports these currencies: %s" % (
                cur, ", ".join(sorted(CURRENCIES))), "currency", "parameter_invalid_string")  # noqa
        if amount < CURRENCIES[cur]:
            raise invalid("Amount must be at least %s %s" % (money(CURRENCIES[cur], cur), cur), "amount",
                          "amount_too_small")
        if amount > 99999999:
            raise invalid("Amount must be no more than %s" % money(99999999, cur), "amount", "amount_too_large")
        capture = p.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid("Invalid capture_method: must be one of automatic, automatic_async, or manual",
                          "capture_method", "parameter_invalid_string")  # noqa
        apm = p.get("automatic_payment_methods")
        if apm is not None:
            if not isinstance(apm, dict) or "enabled" not in apm:
                raise invalid("Missing required param: automatic_payment_methods[enabled].",
                              "automatic_payment_methods[enabled]", "parameter_missing")
            apm = {"enabled": as_bool(apm, "enabled")}
        pmt = p.get("payment_method_types")
        if pmt is not None and not isinstance(pmt, list):
            raise invalid("Invalid array", "payment_method_types", "parameter_invalid_array")  # noqa
        if apm and apm["enabled"] and pmt:
            raise invalid("You may only specify one of these parameters: automatic_payment_methods, "
                          "payment_method_types.", "automatic_payment_methods", "parameter_invalid_empty")  # noqa
        confirm = as_bool(p, "confirm") or False
        md = check_metadata(p.get("metadata")) or {}
        pm = p.get("payment_method")
        pid = new_id("pi_", 24)
        pi = {"id": pid, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
              "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
              "automatic_payment_methods": apm if apm and apm["enabled"] else None, "canceled_at": None,
              "cancellation_reason": None, "capture_method": capture,
              "client_secret": "%s_secret_%s" % (pid, new_id("", 25)), "confirmation_method": "automatic",
              "created": now(), "currency": cur, "customer": p.get("customer"), "description": p.get("description"),
              "last_payment_error": None, "latest_charge": None, "livemode": False, "metadata": md,
              "next_action": None, "payment_method": pm,
              "payment_method_types": pmt or ["card"] if not (apm and apm["enabled"]) else ["card", "upi"],
              "receipt_email": p.get("receipt_email"), "setup_future_usage": p.get("setup_future_usage"),
              "statement_descriptor": p.get("statement_descriptor"),
              "status": "requires_confirmation" if pm else "requires_payment_method"}
        if confirm and not pm:
            raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm "
                          "the PaymentIntent with a payment method, pass payment_method.", "payment_method",
                          "payment_intent_unexpected_state")
        self.d["payment_intents"][pid] = pi
        self.event("payment_intent.created", pi)
        if confirm:
            self.attempt(pi, pm)
        return 200, pi, {}

    def confirm(self, pi, p):
        check_unknown(p, PI_CONFIRM)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise serr(400, "You cannot confirm this PaymentIntent because it has a status of %s. Only a "
                            "PaymentIntent with one of the following statuses may be confirmed: "
                            "requires_confirmation, requires_payment_method, requires_action." % pi["status"],
                       code="payment_intent_unexpected_state", param=None, store=True, payment_intent=dict(pi))
        pm = p.get("payment_method") or pi["payment_method"]
        if not pm:
            raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm "
                          "the PaymentIntent with a payment method, pass payment_method.", "payment_method",
                          "payment_intent_unexpected_state")
        if pi["status"] == "requires_action" and pm == pi["payment_method"]:
            self.succeed(pi)  # the customer completed authentication
        else:
            self.attempt(pi, pm)
        return 200, pi, {}

    def capture(self, pi, p):
        check_unknown(p, {"amount_to_capture", "expand", "metadata"})
        if pi["status"] != "requires_capture":
            raise serr(400, "This PaymentIntent could not be captured because it has a status of %s. Only a "
                            "PaymentIntent with one of the following statuses may be captured: requires_capture."
                       % pi["status"], code="payment_intent_unexpected_state", store=True)
        amt = as_int(p, "amount_to_capture") or pi["amount_capturable"]
        if amt > pi["amount_capturable"]:
            raise invalid("The amount_to_capture must be less than or equal to the capturable amount.",
                          "amount_to_capture", "amount_too_large")
        ch = self.d["charges"][pi["latest_charge"]]
        ch.update(captured=True, amount_captured=amt, balance_transaction=new_id("txn_", 24))
        pi.update(status="succeeded", amount_received=amt, amount_capturable=0)
        self.event("payment_intent.succeeded", pi)
        return 200, pi, {}

    def cancel(self, pi, p):
        check_unknown(p, {"cancellation_reason", "expand"})
        if pi["status"] in ("succeeded", "canceled"):
            raise serr(400, "You cannot cancel this PaymentIntent because it has a status of %s. Only a "
                            "PaymentIntent with one of the following statuses may be canceled: "
                            "requires_payment_method, requires_capture, requires_confirmation, requires_action, "
                            "processing." % pi["status"], code="payment_intent_unexpected_state", store=True)
        pi.update(status="canceled", canceled_at=now(), cancellation_reason=p.get("cancellation_reason"))
        self.event("payment_intent.canceled", pi)
        return 200, pi, {}

    def create_refund(self, p):
        check_unknown(p, REFUND_CREATE)
        if not p.get("payment_intent") and not p.get("charge"):
            raise invalid("One of the following params should be provided for this request: payment_intent or "
                          "charge.", None, "parameter_missing")
        if p.get("payment_intent"):
            pi = self.get_pi(p["payment_intent"])
            ch = self.d["charges"].get(pi["latest_charge"]) if pi["latest_charge"] else None
            if pi["status"] != "succeeded" or ch is None:
                raise serr(400, "This PaymentIntent does not have a successful charge to refund.",
                           param="payment_intent", store=False)
        else:
            ch = self.d["charges"].get(p["charge"])
            if ch is None:
                raise serr(404, "No such charge: '%s'" % p["charge"], code="resource_missing", param="charge",
                           store=False)
            pi = self.d["payment_intents"].get(ch["payment_intent"])
        amount = as_int(p, "amount")
        remaining = ch["amount_captured"] - ch["amount_refunded"]
        if remaining <= 0:
            raise serr(400, "Charge %s has already been refunded." % ch["id"], code="charge_already_refunded",
                       store=False)
        if amount is None:
            amount = remaining
        if amount <= 0:
            raise invalid("Invalid positive integer", "amount", "parameter_invalid_integer")
        if amount > remaining:
            raise invalid("Refund amount (%s) is greater than unrefunded amount on charge (%s)" % (
                money(amount, ch["currency"]), money(remaining, ch["currency"])), "amount", "amount_too_large")
        reason = p.get("reason")
        if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                          "reason", "parameter_invalid_string")  # noqa
        md = check_metadata(p.get("metadata")) or {}
        r = {"id": new_id("re_", 24), "object": "refund", "amount": amount, "balance_transaction": new_id("txn_", 24),
             "charge": ch["id"], "created": now(), "currency": ch["currency"], "destination_details": {
                 "card": {"reference_status": "pending", "reference_type": "acquirer_reference_number",
                          "type": "refund"}, "type": "card"},
             "metadata": md, "payment_intent": ch["payment_intent"], "reason": reason, "receipt_number": None,
             "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None}
        self.d["refunds"][r["id"]] = r
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
        self.event("refund.created", r)
        self.event("charge.refunded", ch)
        return 200, r, {}

    # ---- /__control/ -------------------------------------------------------------------------------
    def control(self, method, parts, query, data):
        if len(parts) == 3 and parts[0] == "payment_intents" and method == "POST":
            pi = self.d["payment_intents"].get(parts[1])
            if pi is None:
                raise Reply(404, {"error": "no such payment_intent"})
            action = parts[2]
            if pi["status"] in ("succeeded", "canceled"):
                raise Reply(409, {"error": "payment_intent is %s" % pi["status"]})
            if action == "succeed":
                pi["payment_method"] = data.get("payment_method") or pi["payment_method"] or "pm_card_visa"
                self.succeed(pi)
            elif action == "fail":
                pi["payment_method"] = data.get("payment_method") or pi["payment_method"] or "pm_card_visa"
                self.decline(pi, data.get("code", "card_declined"), data.get("decline_code", "generic_decline"),
                             data.get("message", "Your card was declined."))
            elif action == "require_action":
                pi["payment_method"] = pi["payment_method"] or "pm_card_authenticationRequired"
                pi["status"] = "requires_action"
                pi["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            elif action == "processing":
                pi["payment_method"] = pi["payment_method"] or "pm_card_visa"
                pi["status"] = "processing"
                self.event("payment_intent.processing", pi)
            else:
                raise Reply(404, {"error": "action is succeed, fail, require_action or processing"})
            return 200, pi
        if parts == ["events"] and method == "GET":
            return 200, {"count": len(self.d["events"]), "items": self.d["events"]}
        raise Reply(404, {"error": "no such control endpoint"})


def main():
    p = fc.common_args("fake Stripe API")
    p.add_argument("--secret-key", default="sk_test_FakeSecretKey0000000000")
    args = p.parse_args()
    fc.serve(StripeHandler, args, lambda: {"payment_intents": {}, "charges": {}, "refunds": {}, "events": [],
                                           "idempotency": {}})


if __name__ == "__main__":
    sys.exit(main())
