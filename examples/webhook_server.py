"""A helpdesk webhook endpoint on ``deescalate.store``, with the standard library only.

    POST /interactions/<id>/events   one event as JSON: what became of it, as JSON
    GET  /interactions/<id>          the interaction's current state
    GET  /due?now=TIME               the obligations due at TIME (default: the clock)

Every delivery goes to ``Store.deliver`` as the bytes received, so the store judges
it, journals it (a bad payload too, as it came) and answers with its fate. The HTTP
status tells the helpdesk whether to deliver again:

    200  applied, or a duplicate (the store already has it)
    202  late: journaled, not applied (it is earlier than the interaction's last event)
    409  refused by the policy, or not possible at the interaction's stage
    422  not an event (bad JSON, an unknown type, a missing field)
    503  the database could not be reached: deliver again later

Every fate but the last is in the store's journal; ``--always-200`` answers them all
200, for a helpdesk that counts a 4xx answer as a failed delivery.

Run it from the repository root (it needs the store's extra):

    python examples/webhook_server.py --db sqlite:///complaints.db --port 8080
    curl --data-binary @event.json http://127.0.0.1:8080/interactions/T-2040/events
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import deescalate as d
from deescalate.store import Delivery, Fate, Store, StoreError, UnknownInteraction

#: The answer to each fate. Only 2xx tells a helpdesk to stop delivering.
STATUS_BY_FATE = {
    Fate.APPLIED: HTTPStatus.OK,
    Fate.DUPLICATE: HTTPStatus.OK,
    Fate.LATE: HTTPStatus.ACCEPTED,
    Fate.REFUSED: HTTPStatus.CONFLICT,
    Fate.INVALID: HTTPStatus.CONFLICT,
    Fate.BAD_INPUT: HTTPStatus.UNPROCESSABLE_ENTITY,
}

#: The largest body accepted: an event is a few hundred bytes.
MAX_BODY = 64 * 1024


class WebhookServer(ThreadingHTTPServer):
    """An HTTP server answering webhooks from ``store``, a thread per request, each
    delivery with the status ``statuses`` gives its fate."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        *,
        statuses: Mapping[Fate, HTTPStatus] = STATUS_BY_FATE,
        quiet: bool = False,
    ) -> None:
        super().__init__(address, WebhookHandler)
        self.store = store
        self.statuses = statuses
        self.quiet = quiet


class WebhookHandler(BaseHTTPRequestHandler):
    """One request: a delivery, or a question about the store."""

    server: WebhookServer

    def do_POST(self) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        length = self.headers.get("Content-Length", "")
        if len(parts) != 3 or parts[0] != "interactions" or parts[2] != "events" or not parts[1]:
            self.answer(HTTPStatus.NOT_FOUND, {"error": "POST /interactions/<id>/events"})
        elif not length.isdigit():
            self.answer(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length is required"})
        elif int(length) > MAX_BODY:
            self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"over {MAX_BODY} bytes"})
        else:
            body = self.rfile.read(int(length))
            try:
                delivery = self.server.store.deliver(unquote(parts[1]), body)
            except StoreError as error:  # the database is unreachable: the helpdesk delivers again
                self.answer(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
            else:
                self.answer(self.server.statuses[delivery.fate], self.described(delivery))

    def described(self, delivery: Delivery) -> dict[str, Any]:
        """The delivery as the agent's screen wants it: its fate, the stage, the findings
        with the advice of each rule, and why it was not applied."""
        record = delivery.record
        policy = self.server.store.policies[record.policy] if record.policy else None
        return {
            "interaction_id": record.interaction_id,
            "fate": record.fate.value,
            "delivery_id": record.delivery_id,
            "position": record.position,
            "stage": None if delivery.interaction is None else delivery.interaction.stage.value,
            "findings": [
                {
                    "rule": finding.rule,
                    "severity": finding.severity.value,
                    "message": finding.message,
                    "advice": policy.rule(finding.rule).advice if policy else "",
                }
                for finding in record.findings
            ],
            "error": record.error,
        }

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        try:
            if parts == ["due"]:
                self.answer(HTTPStatus.OK, self.due(parse_qs(url.query).get("now", [""])[-1]))
            elif len(parts) == 2 and parts[0] == "interactions" and parts[1]:
                self.answer(HTTPStatus.OK, self.server.store.interaction(unquote(parts[1])).to_dict())
            else:
                self.answer(HTTPStatus.NOT_FOUND, {"error": "GET /due?now=TIME or /interactions/<id>"})
        except UnknownInteraction as error:
            self.answer(HTTPStatus.NOT_FOUND, {"error": str(error)})
        except StoreError as error:
            self.answer(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
        except (d.ArgumentError, ValueError) as error:  # a bad ?now=
            self.answer(HTTPStatus.BAD_REQUEST, {"error": str(error)})

    def due(self, now: str) -> dict[str, Any]:
        """What is due at ``now`` (ISO-8601 with a UTC offset; empty: the clock)."""
        at = datetime.fromisoformat(now) if now else datetime.now(UTC)
        found = self.server.store.due(at)  # a time without a UTC offset raises ArgumentError
        return {"now": at.isoformat(), "due": [item.to_dict() for item in found]}

    def answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Answer helpdesk webhooks from a deescalate store.")
    parser.add_argument("--db", default="sqlite:///complaints.db", help="the store's database URL")
    parser.add_argument("--policy", default="facts-first", help="a policy's name, or module:attribute")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--always-200", action="store_true", help="answer 200 to every fate the store kept")
    args = parser.parse_args(argv)
    policy = d.load_policy(args.policy)
    statuses = dict.fromkeys(Fate, HTTPStatus.OK) if args.always_200 else STATUS_BY_FATE
    with Store(args.db, policies=[policy], policy=policy) as store:
        server = WebhookServer((args.host, args.port), store, statuses=statuses)
        print(f"answering webhooks on http://{args.host}:{server.server_address[1]}/", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
