#!/usr/bin/env python3
"""A throwaway SMTP server for melding-delivery's tests and its rate example (aiosmtpd).

Usage: smtp_sink.py --port N [--mode MODE] [--out DIR] [--tls none|starttls|implicit
                    --cert PEM --key PEM]

Modes:
  accept    take every message; with --out, write it as DIR/<n>.eml and its envelope as
            DIR/<n>.envelope ("MAIL FROM" then one "RCPT TO" per line); reply
            "250 2.0.0 Ok: queued as Q<n>" the way Postfix names its queue id
  tempfail  answer the end of DATA with "451 4.3.0 Try again later"
  reject    answer RCPT TO with "550 5.1.1 ... User unknown"
  drop      close the connection when DATA is sent, without an answer

Needs `pip install aiosmtpd` (scripts/test.sh installs it). Runs until killed.
"""

import argparse
import asyncio
import os
import ssl

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, mode, out):
        self.mode = mode
        self.out = out
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject":
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.mode == "drop":
            server.transport.abort()
            return "250 never seen"
        self.count += 1
        if self.out:
            base = os.path.join(self.out, "%06d" % self.count)
            content = envelope.original_content or envelope.content
            with open(base + ".tmp", "wb") as f:
                f.write(content)
            with open(base + ".envelope", "w") as f:
                f.write("\n".join([envelope.mail_from] + list(envelope.rcpt_tos)) + "\n")
            os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as Q%05d" % self.count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", default="accept", choices=["accept", "tempfail", "reject", "drop"])
    parser.add_argument("--out")
    parser.add_argument("--tls", default="none", choices=["none", "starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Handler(args.mode, args.out)

    def factory():
        return SMTP(
            handler,
            hostname="sink.melding.test",
            enable_SMTPUTF8=True,
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=args.port,
            ssl=context if args.tls == "implicit" else None,
        )
    )
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
