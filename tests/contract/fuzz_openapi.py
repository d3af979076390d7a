#!/usr/bin/env python3
"""Contract fuzzing: schemathesis drives a live KKS server from its own OpenAPI document.

Starts `kks serve` on a throwaway SQLite database with the demo data, logs in one user of
each role (operator, supervisor, admin, agent, family), then:

1. sends every operation that names a security scheme without a token, and with a forged
   one: each must be refused with 401 application/problem+json;
2. runs schemathesis against /openapi.json once per role and once without a token, with
   the checks below: no server error, every status code and content type documented, every
   body valid against its documented schema, invalid input (by the schema) refused with a
   4xx, a missing required header (Idempotency-Key) refused, unsupported methods answered
   405 with an Allow header, and a token that is not checked (ignored auth) caught;
3. runs `kks verify-ledger` on the database the fuzzers wrote to: it must be clean;
4. reads the server's log of the whole run: no card number, NIK, name, PIN, password or
   token of the database or of this run may appear in it (card numbers only masked); and
   every problem code answered must be listed in its operation's documented refusals.

`POST /v1/auth/logout` is fuzzed only without a token: with one, it would revoke the
role's tokens and the rest of the run would test nothing but 401.

Usage: python tests/contract/fuzz_openapi.py PATH/TO/kks [--max-examples N] [--seed S]
Needs: schemathesis (tests/contract/requirements.txt). Exits 1 on any failure; prints
"N passed, N failed" last (one count per role run and per sweep).
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import REQUEST_TIMEOUT_SECONDS, Server, login, request  # noqa: E402  (after the path is set)

# One role's schemathesis run may take this long before it counts as hung.
ROLE_RUN_TIMEOUT_SECONDS = 900

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
])


def start_server(binary, directory):
    return Server(
        binary,
        directory,
        # Fuzzed logins must reach the code behind the limiter, not only its 429.
        extra_args=("--login-attempts-per-minute", "1000000"),
        # The production log level: the run's log is checked for personal data afterwards.
        env={**os.environ, "KKS_LOG": "info"},
    )


def tokens_by_role(base, credentials):
    operators = {o["username"]: o for o in credentials["operators"]}
    agent = next(a for a in credentials["agents"] if a["username"] == "agen.cileunyi")
    family = credentials["families"][0]

    def operator(name):
        return login(base, "/v1/auth/operators/login",
                     {"username": name, "password": operators[name]["password"]})

    return {
        "operator": operator("operator.jabar"),
        "supervisor": operator("supervisor.jabar"),
        "admin": operator("admin"),
        "agent": login(base, "/v1/auth/agents/login",
                       {"username": agent["username"], "password": agent["password"],
                        "terminal_id": agent["terminal_id"]}),
        "family": login(base, "/v1/auth/families/login",
                        {"card_number": family["card_number"], "pin": family["pin"]}),
    }


def personal_data_in_log(log_text, database_path, credentials, tokens):
    """What the log holds in clear that it must not: each a short description, none if clean.

    The secrets are every card number, NIK and name in the database, the demo passwords and
    PINs, and the tokens of this run; besides, any run of 16 digits (a card number or NIK
    the fuzzer made up) must not stand in the log unmasked.
    """
    with sqlite3.connect(f"file:{database_path}?mode=ro", uri=True) as db:
        secrets = {("card number", row[0]) for row in db.execute("SELECT card_number FROM cards")}
        for nik, name in db.execute("SELECT nik, recipient_name FROM families"):
            secrets |= {("NIK", nik), ("name", name)}
        secrets |= {("name", row[0]) for row in db.execute("SELECT name FROM family_members")}
    for person in credentials["operators"] + credentials["agents"]:
        secrets.add(("password", person["password"]))
    secrets |= {("token", token) for token in tokens.values()}
    found = [f"{kind} {value[:6]}…" for kind, value in sorted(secrets) if value and value in log_text]
    found += [f"16 digits {digits[:6]}…" for digits in sorted(set(re.findall(r"(?<!\d)\d{16}(?!\d)", log_text)))]
    # A PIN as a value of its own: timestamps carry six-digit fractions (`.123456`).
    for family in credentials["families"]:
        pins = re.findall(rf"(?<![\d.]){re.escape(family['pin'])}(?!\d)", log_text)
        if pins:
            found.append(f"PIN of family {family['family_id']}")
    return found


def unlisted_refusals(log_text, document):
    """Codes the log shows an operation answered that its `4XX` response does not list."""
    listed = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            description = operation.get("responses", {}).get("4XX", {}).get("description", "")
            listed[(method.upper(), path)] = set(re.findall(r"`([A-Z_]+)`", description))
    found = {}
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log_text)
    for line in plain.splitlines():
        answered = re.search(r"http\.method=(\w+) http\.route=(\S+) .*http\.status_code=(4\d\d) code=\"([A-Z_]+)\"", line)
        if not answered:
            continue
        method, route, _, code = answered.groups()
        if (method, route) in listed and code not in listed[(method, route)]:
            found.setdefault(f"{method} {route}", set()).add(code)
    return [f"{operation}: {', '.join(sorted(codes))}" for operation, codes in sorted(found.items())]


def path_with_values(path, credentials):
    """The path with plausible values in its parameters, so that only the token decides."""
    values = {
        "card_number": credentials["families"][0]["card_number"],
        "family_id": str(credentials["families"][0]["family_id"]),
        "batch_id": "1",
        "cycle": "2017-2",
        "reference": "000000000001",
        "programme": "pkh",
    }
    return re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), "1"), path)


def sweep_without_token(base, document, credentials):
    """Every secured operation refuses a missing and a forged token with 401 problem+json."""
    failures = []
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue
            url = base + path_with_values(path, credentials)
            body = {} if "requestBody" in operation else None
            for token in (None, "not.a.token"):
                checked += 1
                answer = request(method.upper(), url, token=token, body=body)
                status, content_type, answer = answer.status, answer.content_type, answer.body
                if status != 401 or not content_type.startswith("application/problem+json"):
                    failures.append(f"{method.upper()} {path} with token {token!r}: {status} {content_type} "
                                    f"{answer[:160]!r}")
    return checked, failures


def write_config(directory, credentials):
    """A schemathesis config that mixes real identifiers (the demo's cards and families)
    into the generated path parameters, so that tests reach past 404 into the handlers."""
    cards = ", ".join(json.dumps(family["card_number"]) for family in credentials["families"])
    families = ", ".join(str(family["family_id"]) for family in credentials["families"])
    path = Path(directory) / "schemathesis.toml"
    path.write_text(f"""
[dictionaries.cards]
values = [{cards}]

[dictionaries.families]
values = [{families}]

[dictionaries.cycles]
values = ["2017-1", "2017-2"]

[dictionaries.batches]
values = [1, 2]

[parameters]
"path.card_number" = {{ dictionary = "cards", probability = 0.5 }}
"path.family_id" = {{ dictionary = "families", probability = 0.5 }}
"path.cycle" = {{ dictionary = "cycles", probability = 0.5 }}
"path.batch_id" = {{ dictionary = "batches", probability = 0.5 }}
""")
    return path


def run_schemathesis(schemathesis, base, role, token, args, report_dir, config):
    command = [
        schemathesis, "--config-file", str(config), "run", f"{base}/openapi.json",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(args.max_examples),
        "--seed", str(args.seed),
        # One worker: hypothesis parses lambdas' source with `ast` to describe them, and on
        # CPython 3.11 two threads doing that at once can fail with "AST constructor
        # recursion depth mismatch" (CPython gh-106905), which CI saw as a schemathesis error.
        "--workers", "1",
        "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
        "--suppress-health-check", "all",
        "--report", "junit",
        "--report-junit-path", str(Path(report_dir) / f"{role}.xml"),
        "--output-truncate", "true",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}",
                    "--exclude-path", "/v1/auth/logout"]
    started = time.monotonic()
    try:
        # Run in the temporary folder: schemathesis keeps its caches in the working directory.
        completed = subprocess.run(command, capture_output=True, text=True, timeout=ROLE_RUN_TIMEOUT_SECONDS,
                                   cwd=report_dir)
    except subprocess.TimeoutExpired:
        return False, f"schemathesis did not finish within {ROLE_RUN_TIMEOUT_SECONDS} s", ""
    elapsed = time.monotonic() - started
    output = completed.stdout + completed.stderr
    (Path(report_dir) / f"{role}.log").write_text(output)
    summary = [line.strip(" =") for line in output.splitlines() if re.match(r"^=+ .* in [0-9.]+s =+$", line)]
    generated = [line.strip() for line in output.splitlines() if re.search(r"^\s*[0-9]+ generated", line)]
    summary = summary[-1:] + generated[-1:]
    return completed.returncode == 0, f"{elapsed:.0f} s; " + ("; ".join(summary) or "no summary"), output


def failures_digest(output, limit=60):
    """Each failed check once per operation (`POST /v1/x: ST204 Wrong response…`), then
    the ERRORS section as schemathesis wrote it (network errors, unsatisfiable schemas…),
    which has no check lines to pick out."""
    found, operation, section, errors = [], None, None, []
    for line in output.splitlines():
        banner = re.match(r"^=+ ([A-Z ]+) =+$", line)
        if banner:
            section = banner.group(1).strip()
            continue
        if section == "ERRORS":
            if line.startswith("Need more help?"):
                section = None
            else:
                errors.append(line)
            continue
        header = re.match(r"^_+ ([A-Z]+ \S+) _+$", line)
        if header:
            operation = header.group(1)
            continue
        check = re.match(r"^- (.+)$", line)
        if check and operation:
            entry = f"{operation}: {check.group(1).strip()}"
            if entry not in found:
                found.append(entry)
    lines = found[:limit] + ([f"... and {len(found) - limit} more"] if len(found) > limit else [])
    if errors:
        lines += ["errors:"] + [line for line in errors if line.strip()][:limit]
    return "\n".join(f"     {line}" for line in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kks", help="path to the kks binary")
    parser.add_argument("--max-examples", type=int, default=25, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20171, help="schemathesis seed (repeatable runs)")
    parser.add_argument("--roles", default="anonymous,operator,supervisor,admin,agent,family")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, reports)")
    args = parser.parse_args()
    binary = Path(args.kks).resolve()
    if not binary.is_file():
        print(f"no kks binary at {binary}", file=sys.stderr)
        return 2
    # The schemathesis installed beside this Python (the venv's), else the one on PATH.
    beside = Path(sys.executable).with_name("schemathesis")
    schemathesis = str(beside) if beside.is_file() else shutil.which("schemathesis")

    passed = failed = 0
    directory = tempfile.mkdtemp(prefix="kks-contract-")
    server = start_server(str(binary), directory)
    try:
        try:
            base = server.wait_listening()
            credentials = json.loads(server.credentials_path.read_text())
            tokens = tokens_by_role(base, credentials)
            document = request("GET", f"{base}/openapi.json").json()
        except Exception as error:
            print(f"FAIL set-up: {error}\n--- kks stderr (tail)\n{server.stderr_tail()}")
            print("0 passed, 1 failed")
            return 1
        config = write_config(directory, credentials)
        operations = sum(len(ops) for ops in document["paths"].values())
        print(f"kks at {base}; {operations} operations in /openapi.json; "
              f"max {args.max_examples} examples per operation and phase; seed {args.seed}")

        checked, failures = sweep_without_token(base, document, credentials)
        if failures:
            failed += 1
            print(f"FAIL secured operations without a valid token ({len(failures)} of {checked} requests):")
            for failure in failures:
                print(f"     {failure}")
        else:
            passed += 1
            print(f"ok   secured operations without a valid token: {checked} requests, all 401 problem+json")

        for role in args.roles.split(","):
            token = None if role == "anonymous" else tokens[role]
            ok, summary, output = run_schemathesis(schemathesis, base, role, token, args, directory, config)
            if ok:
                passed += 1
                print(f"ok   schemathesis as {role}: {summary}")
            else:
                failed += 1
                digest = failures_digest(output) or output[-4000:]
                print(f"FAIL schemathesis as {role}: {summary}\n{digest}")

        verified = subprocess.run([str(binary), "--database", server.database_url, "verify-ledger"],
                                  capture_output=True, text=True)
        if verified.returncode == 0:
            passed += 1
            print(f"ok   after fuzzing: {verified.stdout.strip()}")
        else:
            failed += 1
            print(f"FAIL after fuzzing, kks verify-ledger:\n{verified.stdout}{verified.stderr}")
        server.stderr.flush()
        log_text = server.stderr_path.read_text(errors="replace")
        database_path = server.database_url.removeprefix("sqlite://")
        in_clear = personal_data_in_log(log_text, database_path, credentials, tokens)
        if in_clear:
            failed += 1
            print(f"FAIL the server's log of the run holds personal data in clear: {', '.join(in_clear[:20])}")
        else:
            passed += 1
            print(f"ok   the server's log of the run ({len(log_text.splitlines())} lines) holds no card number, "
                  "NIK, name, PIN, password or token in clear")
        unlisted = unlisted_refusals(log_text, document)
        if unlisted:
            failed += 1
            print("FAIL codes answered that the operation's documented refusals do not list:")
            for entry in unlisted:
                print(f"     {entry}")
        else:
            passed += 1
            print("ok   every problem code answered is listed in its operation's documented refusals")
        if failed:
            print(f"--- kks stderr (tail)\n{server.stderr_tail()}")
    finally:
        server.stop()
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
