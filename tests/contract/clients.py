#!/usr/bin/env python3
"""The OpenAPI document, checked by tools nobody here wrote, then used by a generated client.

Starts `kks serve` on a throwaway SQLite database with the demo data and reads its
/openapi.json, then:

1. openapi-spec-validator validates it (OpenAPI 3.1);
2. openapi-python-client generates a Python client from it; any warning (an operation or a
   response it skipped) fails the check;
3. openapi-typescript generates TypeScript types from it and `tsc --noEmit` type-checks them
   with tests/contract/typescript/uses_types.ts, a few lines written against those types
   (npm packages pinned by tests/contract/typescript/package-lock.json, installed into a
   temporary directory);
4. the generated Python client drives the real server: a family logs in and reads its
   balances and its card image (PNG bytes); a bank agent logs in on its terminal, moves PKH
   money to savings, pays out cash, and a withdrawal above the limit is refused with its
   code.

Usage: python tests/contract/clients.py PATH/TO/kks [--keep DIR]
Needs: the packages of tests/contract/requirements-clients.txt, node and npm.
Exits 1 on any failure.
"""

import argparse
import datetime
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from kks_server import Server, check, request  # noqa: E402  (after the path is set)

GENERATOR_CONFIG = HERE / "openapi-python-client.yaml"
TYPESCRIPT_PROJECT = HERE / "typescript"
TYPESCRIPT_FILES = ("package.json", "package-lock.json", "tsconfig.json", "uses_types.ts")
COMMAND_TIMEOUT_SECONDS = 600
AGENT = "agen.cileunyi"
FAMILY_NAME = "Siti Aminah"
# Western Indonesia Time: a terminal writes when it sent a request in WIB.
WIB = datetime.timezone(datetime.timedelta(hours=7))


def run(command, cwd, what):
    """Runs a tool; returns its output (stdout and stderr together); fails when it fails."""
    print(f"-- {what}: {' '.join(str(part) for part in command)}", flush=True)
    completed = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=COMMAND_TIMEOUT_SECONDS)
    check(completed.returncode == 0, f"{what} exited {completed.returncode}:\n{completed.stdout}")
    return completed.stdout


def validate_document(document):
    validate(document)
    operations = [operation for item in document["paths"].values() for operation in item.values()
                  if isinstance(operation, dict) and "responses" in operation]
    for operation in operations:
        what = operation.get("operationId", "?")
        check(operation.get("operationId") and operation.get("summary"), f"{what}: an operationId and a summary")
        refusals = [status for status in operation["responses"] if status.startswith("4")]
        check(refusals or not operation.get("security"), f"{what}: a secured operation lists its refusals")
    print(f"openapi-spec-validator: valid, {len(operations)} operations, each with an operationId and a summary")
    check_examples(document)
    return len(operations)


def examples_of(schema, where):
    """Every example written in a schema and its properties, with where it is."""
    for example in ([schema["example"]] if "example" in schema else []) + schema.get("examples", []):
        yield where, schema, example
    for name, property_schema in schema.get("properties", {}).items():
        yield from examples_of(property_schema, f"{where}.{name}")


def check_examples(document):
    """Each example in components/schemas is valid against the schema it illustrates."""
    components = {"components": document["components"]}
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        for where, illustrated, example in examples_of(schema, name):
            # The schema under test, resolved against the document's components.
            validator = Draft202012Validator({**components, **illustrated})
            errors = [error.message for error in validator.iter_errors(example)]
            check(not errors, f"the example of {where} is invalid: {errors}")
            checked += 1
    print(f"jsonschema: {checked} examples valid against their schemas")


def generate_python_client(document_path, directory):
    """The generated package's directory; fails on any warning of the generator."""
    output = directory / "kks_client"
    log = run([Path(sys.executable).parent / "openapi-python-client", "generate", "--path", document_path,
               "--output-path", output, "--meta", "none", "--config", GENERATOR_CONFIG],
              directory, "openapi-python-client")
    # The generator exits 0 even when it leaves operations or responses out; it says so in
    # WARNING blocks ("Endpoint will not be generated", "response will be omitted").
    skipped = [line for line in log.splitlines() if "WARNING" in line or "will not be generated" in line
               or "will be omitted" in line or "Unable to" in line]
    check(not skipped, "openapi-python-client skipped parts of the document:\n" + log)
    check("Warning(s) encountered" not in log and "Error(s) encountered" not in log, log)
    print("openapi-python-client: every operation and response generated")
    return output


def generated_operations(package):
    """How many operation modules the generator wrote (one per operation)."""
    return sum(1 for path in (package / "api").rglob("*.py") if path.name != "__init__.py")


def check_typescript(document_path, directory):
    project = directory / "typescript"
    project.mkdir()
    for name in TYPESCRIPT_FILES:
        shutil.copy(TYPESCRIPT_PROJECT / name, project / name)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], project, "npm ci")
    log = run(["npx", "--no-install", "openapi-typescript", document_path, "--output", "kks-api.d.ts"], project,
              "openapi-typescript")
    check("⚠" not in log and "warn" not in log.lower() and "error" not in log.lower(),
          "openapi-typescript warned:\n" + log)
    run(["npx", "--no-install", "tsc", "--noEmit", "-p", "tsconfig.json"], project, "tsc")
    print("openapi-typescript + tsc: the generated types check, and uses_types.ts checks against them")


class Terminal:
    """A bank agent's EDC terminal, through the generated client."""

    def __init__(self, client_module, base, agent):
        self.kks = client_module
        from kks_client.api.auth import login_agent
        from kks_client.models import AgentLogin
        tokens = login_agent.sync(client=client_module.Client(base_url=base),
                                  body=AgentLogin(username=agent["username"], password=agent["password"],
                                                  terminal_id=agent["terminal_id"]))
        check(tokens is not None and tokens.access_token, f"agent login: {tokens!r}")
        self.client = client_module.AuthenticatedClient(base_url=base, token=tokens.access_token)
        self.terminal_id = agent["terminal_id"]
        self.stan = 0

    def send(self, operation, body_type, family, **fields):
        from kks_client.models import CardField
        self.stan += 1
        stan = f"{self.stan:06d}"
        sent = datetime.datetime.now(WIB).replace(microsecond=0)
        body = body_type(card=CardField(card_number=family["card_number"]), pin=family["pin"], stan=stan,
                         transmitted_at=sent.isoformat(), **fields)
        return operation.sync_detailed(client=self.client, body=body,
                                       idempotency_key=f"{self.terminal_id}-{sent:%Y%m%d}-{stan}")


def drive_server(package_parent, base, credentials):
    sys.path.insert(0, str(package_parent))
    kks = importlib.import_module("kks_client")
    from kks_client.api.auth import login_family
    from kks_client.api.cards import image
    from kks_client.api.edc import cash_withdrawal, wallet_to_savings
    from kks_client.api.families import balances
    from kks_client.models import (CashWithdrawalRequest, EdcReceipt, FamilyLogin, Problem,
                                   WalletToSavingsRequest)
    from kks_client.types import File

    family = next(f for f in credentials["families"] if f["recipient_name"] == FAMILY_NAME)
    agent = next(a for a in credentials["agents"] if a["username"] == AGENT)

    # A family logs in with its card and PIN, and reads its balances and its card.
    tokens = login_family.sync(client=kks.Client(base_url=base),
                               body=FamilyLogin(card_number=family["card_number"], pin=family["pin"]))
    check(tokens is not None and tokens.token_type == "Bearer", f"family login: {tokens!r}")
    as_family = kks.AuthenticatedClient(base_url=base, token=tokens.access_token)
    pockets = balances.sync(client=as_family, family_id=family["family_id"])
    check(isinstance(pockets, list), f"balances: {pockets!r}")
    by_kind = {pocket.kind.value: pocket for pocket in pockets}
    check(by_kind["wallet_pkh"].available == "500000.00", f"PKH available {by_kind['wallet_pkh'].available}")
    check(by_kind["savings"].balance == "0.00", f"savings {by_kind['savings'].balance}")
    card = image.sync(client=as_family, card_number=family["card_number"])
    check(isinstance(card, File) and card.payload.read(8) == b"\x89PNG\r\n\x1a\n", f"card image: {card!r}")
    print(f"family {family['family_id']}: logged in, PKH available Rp 500000.00, card image is a PNG")

    # A bank agent moves PKH money to savings and pays out cash; too much is refused.
    terminal = Terminal(kks, base, agent)
    moved = terminal.send(wallet_to_savings, WalletToSavingsRequest, family, amount="300000")
    check(moved.status_code == 200 and isinstance(moved.parsed, EdcReceipt), f"wallet to savings: {moved!r}")
    paid = terminal.send(cash_withdrawal, CashWithdrawalRequest, family, amount="150000")
    check(paid.status_code == 200 and isinstance(paid.parsed, EdcReceipt), f"withdrawal: {paid.content!r}")
    savings = next(pocket for pocket in paid.parsed.balances if pocket.kind.value == "savings")
    check(savings.available == "150000.00", f"savings after the withdrawal: {savings.available}")
    refused = terminal.send(cash_withdrawal, CashWithdrawalRequest, family, amount="2500001")
    check(refused.status_code == 422 and isinstance(refused.parsed, Problem)
          and refused.parsed.code.value == "WITHDRAWAL_LIMIT_EXCEEDED", f"too much: {refused.content!r}")
    print(f"agent {AGENT}: PKH Rp 300000 to savings, Rp 150000 paid out (reference {paid.parsed.reference}), "
          "Rp 2500001 refused WITHDRAWAL_LIMIT_EXCEEDED")

    after = balances.sync(client=as_family, family_id=family["family_id"])
    check(next(p for p in after if p.kind.value == "savings").balance == "150000.00", "the family sees its savings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="path to the kks binary")
    parser.add_argument("--keep", help="write the generated clients here instead of a temporary directory")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kks-clients-") as temporary:
        directory = Path(arguments.keep or temporary).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        server = Server(arguments.binary, Path(temporary))
        step = "starting kks"
        try:
            base = server.wait_listening()
            step = "reading /openapi.json"
            answer = request("GET", f"{base}/openapi.json")
            check(answer.status == 200, answer.describe())
            document = answer.json()
            document_path = directory / "openapi.json"
            document_path.write_bytes(answer.body)

            step = "validating the document"
            operations = validate_document(document)
            step = "generating the Python client"
            package = generate_python_client(document_path, directory)
            generated = generated_operations(package)
            check(generated == operations, f"{generated} of {operations} operations generated")
            print(f"openapi-python-client: {generated} of {operations} operations")
            step = "generating and type-checking TypeScript"
            check_typescript(document_path, directory)
            step = "the generated client against the server"
            credentials = json.loads(server.credentials_path.read_text())
            drive_server(package.parent, base, credentials)
        except Exception as error:
            print(f"FAILED while {step}: {error}", file=sys.stderr)
            print(server.stderr_tail(), file=sys.stderr)
            return 1
        finally:
            server.stop()
    print("the OpenAPI document is valid, generates whole clients, and the Python client works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
