"""A local HTTP server that speaks the request shapes of Aliyun SMS and Tencent Cloud SMS, for
the campaign tests. It checks each request's signature on its own (Aliyun's HMAC-SHA1 RPC
signature, Tencent's TC3-HMAC-SHA256), answers as the provider does, and appends one JSON line
per request to the log: provider, phone, sign, template, params, out id, and whether the
signature held. Numbers ending in 0000 are refused as invalid (a permanent failure); ending in
9999 are throttled (a temporary one).

Usage: server.py PORT LOGFILE   (prints "ready" once listening)
Keys: Aliyun AccessKeyId `testId` / secret `testSecret`; Tencent SecretId `AKIDtest` / key
`tencentSecret`, SmsSdkAppId `1400000000`.
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote

ALIYUN = {"testId": "testSecret"}
TENCENT = {"AKIDtest": "tencentSecret"}
LOCK = threading.Lock()


def aliyun_ok(method, params):
    secret = ALIYUN.get(params.get("AccessKeyId", ""))
    if secret is None:
        return False
    given = params.get("Signature", "")
    rest = {k: v for k, v in params.items() if k != "Signature"}
    enc = lambda s: quote(s, safe="~")
    q = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(rest.items()))
    sts = method + "&" + enc("/") + "&" + enc(q)
    want = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(want, given)


def tc3_ok(headers, body):
    auth = headers.get("Authorization", "")
    try:
        algo, rest = auth.split(" ", 1)
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        key_id, date, service, _ = parts["Credential"].split("/")
    except ValueError:
        return False
    secret = TENCENT.get(key_id)
    if algo != "TC3-HMAC-SHA256" or secret is None or service != "sms":
        return False
    ts = headers.get("X-TC-Timestamp", "0")
    if datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime("%Y-%m-%d") != date:
        return False
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
        headers.get("Content-Type", ""), headers.get("Host", ""), hashlib.sha256(body).hexdigest())
    sts = "TC3-HMAC-SHA256\n%s\n%s/sms/tc3_request\n%s" % (ts, date, hashlib.sha256(canonical.encode()).hexdigest())
    k = lambda key, msg: hmac.new(key, msg.encode(), hashlib.sha256).digest()
    signing = k(k(k(("TC3" + secret).encode(), date), "sms"), "tc3_request")
    want = hmac.new(signing, sts.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts.get("Signature", ""))


class Handler(BaseHTTPRequestHandler):
    log_path = None

    def log_message(self, *args):
        pass

    def record(self, line):
        with LOCK, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def answer(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/aliyun"):
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            ok = aliyun_ok("POST", params)
            phone = params.get("PhoneNumbers", "")
            self.record({"provider": "aliyun", "signed": ok, "phone": phone, "sign": params.get("SignName"),
                         "template": params.get("TemplateCode"), "params": json.loads(params.get("TemplateParam") or "{}"),
                         "out_id": params.get("OutId"), "action": params.get("Action")})
            if not ok:
                return self.answer({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"})
            if phone.endswith("0000"):
                return self.answer({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "invalid number"})
            if phone.endswith("9999"):
                return self.answer({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "throttled"})
            return self.answer({"Code": "OK", "Message": "OK", "BizId": "biz-" + params.get("OutId", ""), "RequestId": "r"})
        if self.path.startswith("/tencent"):
            ok = tc3_ok(self.headers, body)
            req = json.loads(body or b"{}")
            phone = (req.get("PhoneNumberSet") or [""])[0]
            self.record({"provider": "tencent", "signed": ok, "phone": phone, "sign": req.get("SignName"),
                         "template": req.get("TemplateId"), "params": req.get("TemplateParamSet"),
                         "out_id": req.get("SessionContext"), "action": self.headers.get("X-TC-Action"),
                         "app_id": req.get("SmsSdkAppId")})
            if not ok:
                return self.answer({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad signature"}, "RequestId": "r"}})
            code, msg = "Ok", "send success"
            if phone.endswith("0000"):
                code, msg = "InvalidParameterValue.IncorrectPhoneNumber", "invalid number"
            elif phone.endswith("9999"):
                code, msg = "LimitExceeded.PhoneNumberThirtySecondLimit", "throttled"
            return self.answer({"Response": {"SendStatusSet": [{"SerialNo": "sn-" + str(req.get("SessionContext")),
                                "PhoneNumber": phone, "Code": code, "Message": msg}], "RequestId": "r"}})
        self.send_response(404)
        self.end_headers()


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    open(path, "w").close()
    Handler.log_path = path
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
