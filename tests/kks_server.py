"""Shared by the Python checks under tests/: a `kks serve` process on a throwaway SQLite
database with the demo data, and plain HTTP with the standard library.

Used by tests/qr/zxing_reads_card.py, the browser checks under tests/browser/ and
tests/contract/fuzz_openapi.py.
"""

import datetime
import json
import queue
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30
LISTENING = re.compile(r"listening on (http://\S+)")


class Server:
    """A `kks serve` process on a fresh SQLite database in a temporary directory."""

    def __init__(self, binary, directory, extra_args=(), env=None):
        self.directory = Path(directory)
        self.database_url = f"sqlite://{self.directory / 'kks.sqlite'}"
        self.credentials_path = self.directory / "demo-credentials.json"
        self.stderr_path = self.directory / "kks.stderr.log"
        self.stderr = open(self.stderr_path, "wb")
        self.lines = queue.Queue()
        self.process = subprocess.Popen(
            [
                binary,
                "--database", self.database_url,
                "serve",
                "--bind", "127.0.0.1:0",
                "--demo-credentials", str(self.credentials_path),
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
        )
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_listening(self):
        """The base URL from the `listening on` line, within the start-up timeout."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"no 'listening on' line within {STARTUP_TIMEOUT_SECONDS} s")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"kks exited with status {self.process.wait()} before listening")
            match = LISTENING.search(line)
            if match:
                return match.group(1).rstrip("/")

    def stderr_tail(self, lines=30):
        if not self.stderr.closed:
            self.stderr.flush()
        text = self.stderr_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


class Response:
    def __init__(self, status, content_type, body):
        self.status = status
        self.content_type = content_type
        self.body = body

    def json(self):
        return json.loads(self.body)

    def describe(self):
        return f"{self.status} {self.content_type}: {self.body[:300]!r}"


def request(method, url, token=None, body=None, extra_headers=None):
    """One HTTP exchange; 4xx and 5xx answers are returned, not raised."""
    headers = {"Accept": "application/json, image/png, application/problem+json", **(extra_headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            return Response(answer.status, answer.headers.get("Content-Type", ""), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers.get("Content-Type", ""), error.read())


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def login(base, path, body):
    answer = request("POST", f"{base}{path}", body=body)
    check(answer.status == 200, f"login {body.get('username')}: {answer.describe()}")
    return answer.json()["access_token"]


# Western Indonesia Time: a terminal writes when it sent a request in WIB.
WIB = datetime.timezone(datetime.timedelta(hours=7))


class Terminal:
    """The agent's EDC terminal, over plain HTTP like card-sim."""

    def __init__(self, base, agent):
        self.base = base
        self.terminal_id = agent["terminal_id"]
        self.token = login(base, "/v1/auth/agents/login", {"username": agent["username"], "password": agent["password"],
                                                            "terminal_id": agent["terminal_id"]})
        self.stan = 0

    def send(self, path, family, fields):
        self.stan += 1
        stan = f"{self.stan:06d}"
        transmitted_at = datetime.datetime.now(WIB).replace(microsecond=0)
        body = {"card": {"card_number": family["card_number"]}, "pin": family["pin"], "stan": stan,
                "transmitted_at": transmitted_at.isoformat(), **fields}
        key = f"{self.terminal_id}-{transmitted_at:%Y%m%d}-{stan}"
        answer = request("POST", f"{self.base}{path}", token=self.token, body=body,
                         extra_headers={"Idempotency-Key": key})
        check(answer.status == 200, f"{path}: {answer.describe()}")
        return answer.json()
