"""A local SMTP server for the campaign tests: aiosmtpd accepts every message and appends one
JSON line per recipient to the log file (recipient, Message-ID, List-Unsubscribe, subject),
so a test counts exactly what arrived. Recipients whose local part starts with `hard-` are
refused with 550 5.1.1 (a hard bounce), `soft-` with 452 4.2.2 (mailbox full).

Usage: server.py PORT LOGFILE [--lean]   (prints "ready" once listening)

--lean (benchmarks): records recipient and Message-ID found in the raw bytes, without parsing
the MIME structure, so the server's own Python costs as little as it can per message.
"""
import asyncio
import email
import email.policy
import json
import re
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path, lean=False):
        self.path = path
        self.lean = lean
        self.out = open(path, "a", encoding="utf-8", buffering=1) if lean else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("hard-"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("soft-"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.lean:
            if not getattr(self, "sampled", False):
                # One message exactly as it arrived, for a benchmark's reference sender.
                with open(self.path + ".sample.eml", "wb") as f:
                    f.write(envelope.content)
                self.sampled = True
            m = re.search(rb"^Message-ID: *(<[^>]*>)", envelope.content, re.M | re.I)
            mid = m.group(1).decode() if m else None
            for rcpt in envelope.rcpt_tos:
                self.out.write(json.dumps({"to": rcpt, "message_id": mid}) + "\n")
            return "250 Message accepted for delivery"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        with open(self.path, "a", encoding="utf-8") as f:
            for rcpt in envelope.rcpt_tos:
                f.write(json.dumps({
                    "to": rcpt,
                    "message_id": msg.get("Message-ID"),
                    "list_unsubscribe": msg.get("List-Unsubscribe"),
                    "list_unsubscribe_post": msg.get("List-Unsubscribe-Post"),
                    "subject": str(msg.get("Subject") or ""),
                    "text": text,
                }, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    open(path, "w").close()
    c = Controller(Recorder(path, "--lean" in sys.argv[3:]), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        c.stop()


if __name__ == "__main__":
    main()
