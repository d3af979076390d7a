#!/usr/bin/env python3
"""An independent decoder reads the QR printed on every KKS card image.

Starts `kks serve` on a throwaway SQLite database with the demo data, then for every demo
family in Jawa Barat (village code starting with "32", the region of operator.jabar):
fetches the card front PNG, decodes it with zxing-cpp (a QR reader nobody here wrote),
checks that exactly one QR code is found, that its text is the card's signed QR text
(GET /v1/cards/{n}), and that the server accepts that text at POST /v1/cards/check-qr
(as agent agen.cileunyi) for the same card. One negative check: the decoded text with one
character changed in the middle is refused with a 4xx problem+json.

Usage: python tests/qr/zxing_reads_card.py PATH/TO/kks
Needs: zxing-cpp, pillow (tests/qr/requirements.txt). Exits 1 on any failure.
"""

import importlib.metadata
import io
import json
import sys
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import Server, check, login, request  # noqa: E402  (after the path is set)

REGION_PREFIX = "32"
OPERATOR = "operator.jabar"
AGENT = "agen.cileunyi"


def decode_qr(png):
    """The text of the one QR code zxing-cpp finds in the image."""
    image = Image.open(io.BytesIO(png))
    image.load()
    results = zxingcpp.read_barcodes(image)
    qr_codes = [result for result in results if result.format == zxingcpp.BarcodeFormat.QRCode]
    found = ", ".join(f"{result.format}" for result in results) or "nothing"
    check(len(qr_codes) == 1, f"expected exactly one QR code in the {image.size[0]}x{image.size[1]} image, found {found}")
    return qr_codes[0].text


def check_card(base, operator_token, agent_token, card_number):
    """Checks one card and returns its decoded QR text."""
    image = request("GET", f"{base}/v1/cards/{card_number}/image.png", token=operator_token)
    check(image.status == 200, f"image: {image.describe()}")
    check(image.content_type.startswith("image/png"), f"image content type {image.content_type!r}")
    decoded = decode_qr(image.body)

    details = request("GET", f"{base}/v1/cards/{card_number}", token=operator_token)
    check(details.status == 200, f"card details: {details.describe()}")
    expected = details.json()["qr"]
    check(decoded == expected, f"decoded QR text {decoded!r} differs from the card's qr {expected!r}")

    verdict = request("POST", f"{base}/v1/cards/check-qr", token=agent_token, body={"qr": decoded})
    check(verdict.status == 200, f"check-qr of the decoded text: {verdict.describe()}")
    answered = verdict.json().get("card_number")
    check(answered == card_number, f"check-qr answered card {answered!r}, expected {card_number!r}")
    return decoded


def flip_middle(text):
    """The text with its middle character replaced by a different one."""
    middle = len(text) // 2
    replacement = "A" if text[middle] != "A" else "B"
    return text[:middle] + replacement + text[middle + 1:]


def check_altered(base, agent_token, decoded):
    altered = flip_middle(decoded)
    check(altered != decoded, "flipping a character did not change the text")
    verdict = request("POST", f"{base}/v1/cards/check-qr", token=agent_token, body={"qr": altered})
    check(400 <= verdict.status < 500, f"check-qr of an altered text: expected 4xx, got {verdict.describe()}")
    check(
        verdict.content_type.startswith("application/problem+json"),
        f"check-qr of an altered text: content type {verdict.content_type!r}",
    )
    return verdict.json().get("code")


def run(binary):
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kks-zxing-") as directory:
        server = Server(binary, directory)
        try:
            try:
                base = server.wait_listening()
                credentials = json.loads(server.credentials_path.read_text())
                operator = next(o for o in credentials["operators"] if o["username"] == OPERATOR)
                agent = next(a for a in credentials["agents"] if a["username"] == AGENT)
                operator_token = login(base, "/v1/auth/operators/login",
                                       {"username": operator["username"], "password": operator["password"]})
                agent_token = login(base, "/v1/auth/agents/login",
                                    {"username": agent["username"], "password": agent["password"],
                                     "terminal_id": agent["terminal_id"]})
                families = [f for f in credentials["families"] if f["village"].startswith(REGION_PREFIX)]
                check(families, f"no demo family with a village in region {REGION_PREFIX}")
            except Exception as error:  # set-up failed: nothing was checked
                print(f"FAIL set-up: {error}")
                print(f"--- kks stderr (tail)\n{server.stderr_tail()}")
                print(f"{passed} passed, 1 failed")
                return 1
            print(f"kks at {base}; zxing-cpp {importlib.metadata.version('zxing-cpp')}; "
                  f"{len(families)} cards in region {REGION_PREFIX}")

            first_decoded = None
            for family in families:
                card_number = family["card_number"]
                try:
                    decoded = check_card(base, operator_token, agent_token, card_number)
                    first_decoded = first_decoded or decoded
                    passed += 1
                    print(f"ok   card {card_number} (family {family['family_id']}): zxing-cpp read {decoded[:24]}..., "
                          f"equals the card's qr, check-qr accepts it")
                except Exception as error:
                    failed += 1
                    print(f"FAIL card {card_number} (family {family['family_id']}): {error}")

            try:
                check(first_decoded is not None, "no card was decoded, nothing to alter")
                code = check_altered(base, agent_token, first_decoded)
                passed += 1
                print(f"ok   altered QR text (one character flipped in the middle): refused, problem code {code}")
            except Exception as error:
                failed += 1
                print(f"FAIL altered QR text: {error}")

            if failed:
                print(f"--- kks stderr (tail)\n{server.stderr_tail()}")
        finally:
            server.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH/TO/kks", file=sys.stderr)
        return 2
    binary = Path(sys.argv[1]).resolve()
    if not binary.is_file():
        print(f"no kks binary at {binary}", file=sys.stderr)
        return 2
    return run(str(binary))


if __name__ == "__main__":
    sys.exit(main())
