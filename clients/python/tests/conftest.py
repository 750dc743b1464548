"""Fixtures: the shared canonical-JSON vectors, and a live countersign service.

The live tests need a running service with a fake Slack. ``npx vitest run
test/client/python.test.ts`` provides one (and runs this suite against it) through
COUNTERSIGN_TEST_URL, COUNTERSIGN_TEST_TOKEN, COUNTERSIGN_TEST_WEBHOOK_SECRET and
COUNTERSIGN_TEST_CONTROL (a small endpoint that clicks in the fake Slack as an approver).
Without them the live tests are skipped, unless COUNTERSIGN_REQUIRE_LIVE=1 makes that an error.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from countersign import Countersign  # noqa: E402

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "canonical-vectors.json"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@dataclass
class Live:
    url: str
    token: str
    webhook_secret: str
    control: str

    def client(self) -> Countersign:
        return Countersign(self.url, self.token)

    def decide_next(self, decision: str = "approve", **fields: Any) -> threading.Thread:
        """In the background, as a person in Slack: decide the next pending request."""
        result: dict[str, Any] = {}

        def run() -> None:
            payload = json.dumps({"decision": decision, **fields}).encode("utf-8")
            request = urllib.request.Request(
                f"{self.control}/next", data=payload, method="POST", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                result.update(json.loads(response.read()))

        thread = threading.Thread(target=run, daemon=True)
        thread.result = result  # type: ignore[attr-defined]
        thread.start()
        return thread


@pytest.fixture(scope="session")
def live() -> Live:
    names = ["COUNTERSIGN_TEST_URL", "COUNTERSIGN_TEST_TOKEN", "COUNTERSIGN_TEST_WEBHOOK_SECRET", "COUNTERSIGN_TEST_CONTROL"]
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        why = f"no live service ({', '.join(missing)} unset): run `npx vitest run test/client/python.test.ts`"
        if os.environ.get("COUNTERSIGN_REQUIRE_LIVE") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return Live(*(os.environ[name] for name in names))
