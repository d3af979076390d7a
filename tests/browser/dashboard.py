#!/usr/bin/env python3
"""The dashboard in a real headless browser (Debian's chromium, driven by Selenium).

Starts `kks serve` on a throwaway SQLite database with the demo data, opens /dashboard,
logs in as the national admin, sees the national overview, drills down province →
regency → district → village → one family (Siti Aminah), then makes card transactions
over HTTP as bank agent agen.cileunyi (PKH e-wallet to savings, a cash withdrawal) and
waits for the page, which polls by itself, to show the new figures: the family's savings
balance, then the village's cash withdrawn. Checks that every resource the page loaded
came from the KKS server, and saves screenshots (default target/dashboard-screenshot.png
and target/dashboard-family.png).

Usage: python tests/browser/dashboard.py PATH/TO/kks [--screenshots DIR]
Needs: chromium and chromium-driver (Debian), selenium (tests/browser/requirements.txt).
Exits 1 on any failure.
"""

import argparse
import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import Server, check, login, request  # noqa: E402  (after the path is set)

# Long enough for a debug build on a busy machine; the page polls every 2 s.
WAIT_SECONDS = 30
OPERATOR = "admin"
AGENT = "agen.cileunyi"
FAMILY_NAME = "Siti Aminah"
DRILL_DOWN = ["32", "32.04", "32.04.12", "32.04.12.2001"]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1100", "--lang=id"):
        options.add_argument(argument)
    # The driver Debian installs with chromium: Selenium must not download one.
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def text_of(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def wait_text(driver, selector, predicate, what):
    """Waits until the element's text satisfies `predicate`; returns the text."""
    def ready(_):
        try:
            text = text_of(driver, selector)
        except Exception:  # not on the page yet, or replaced while read
            return False
        return text if predicate(text) else False
    try:
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(ready)
    except Exception:
        try:
            last = text_of(driver, selector)
        except Exception:
            last = "(absent)"
        raise AssertionError(f"{what}: waited {WAIT_SECONDS} s, {selector!r} shows {last!r}")


def click_row(driver, selector, what):
    WebDriverWait(driver, WAIT_SECONDS).until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)),
                                              message=f"{what}: no clickable {selector!r}")
    # The table is redrawn by polling: find the row again just before clicking it.
    for attempt in range(3):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except Exception:
            if attempt == 2:
                raise


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


def run(binary, screenshots):
    with tempfile.TemporaryDirectory(prefix="kks-browser-") as directory:
        server = Server(binary, directory)
        driver = None
        step = "starting kks"
        try:
            base = server.wait_listening()
            credentials = json.loads(server.credentials_path.read_text())
            operator = next(o for o in credentials["operators"] if o["username"] == OPERATOR)
            agent = next(a for a in credentials["agents"] if a["username"] == AGENT)
            family = next(f for f in credentials["families"] if f["recipient_name"] == FAMILY_NAME)

            step = "logging in"
            driver = browser()
            driver.get(f"{base}/dashboard")
            driver.find_element(By.ID, "username").send_keys(operator["username"])
            driver.find_element(By.ID, "password").send_keys(operator["password"])
            driver.find_element(By.ID, "login-button").click()

            step = "the national overview"
            wait_text(driver, "#region-title", lambda text: text.startswith("Nasional"), step)
            national_credited = wait_text(driver, '#headline [data-figure="wallet_pkh.credited"]',
                                          lambda text: text.startswith("Rp "), step)
            check(national_credited == "Rp 2.000.000", f"national PKH credited {national_credited!r}: 4 demo families × Rp 500.000")
            wait_text(driver, '#regions tbody tr[data-code="33"]', lambda text: "Jawa Tengah" in text, step)
            print(f"ok   logged in as {OPERATOR}; national overview shows PKH credited {national_credited}")

            for code in DRILL_DOWN:
                step = f"drilling down to {code}"
                click_row(driver, f'#regions tbody tr[data-code="{code}"]', step)
                wait_text(driver, "#region-title", lambda text, code=code: text.endswith(f"{code})"), step)
            village_withdrawn = wait_text(driver, '#headline [data-figure="savings.withdrawn_in_cash"]',
                                          lambda text: text.startswith("Rp "), "the village headline")
            print(f"ok   drilled down to village {DRILL_DOWN[-1]}; cash withdrawn there: {village_withdrawn}")

            step = "opening the family"
            click_row(driver, f'#families tbody tr[data-family="{family["family_id"]}"]', step)
            wait_text(driver, "#family-title", lambda text: text.startswith(FAMILY_NAME), step)
            savings_before = wait_text(driver, '#family-pockets [data-figure="savings.balance"]',
                                       lambda text: text.startswith("Rp "), step)
            print(f"ok   family page of {FAMILY_NAME}: savings {savings_before}")

            step = "card transactions while the page is open"
            terminal = Terminal(base, agent)
            terminal.send("/v1/edc/wallet-to-savings", family, {"amount": "100000"})
            terminal.send("/v1/edc/cash-withdrawals", family, {"amount": "40000"})
            savings_after = wait_text(driver, '#family-pockets [data-figure="savings.balance"]',
                                      lambda text: text == "Rp 60.000", "the family's savings after the transactions")
            print(f"ok   agent moved Rp 100.000 to savings and paid Rp 40.000 in cash; the page changed "
                  f"{savings_before} → {savings_after} by itself")
            screenshots.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(screenshots / "dashboard-family.png"))

            step = "back to the village"
            driver.back()
            village_after = wait_text(driver, '#headline [data-figure="savings.withdrawn_in_cash"]',
                                      lambda text: text == "Rp 40.000", "the village's cash withdrawn")
            check(village_after != village_withdrawn, "the village figure did not change")
            print(f"ok   the village's cash withdrawn changed {village_withdrawn} → {village_after}")

            step = "the national overview again"
            driver.find_element(By.CSS_SELECTOR, "#breadcrumbs a").click()
            wait_text(driver, '#headline [data-figure="wallet_pkh.moved_to_savings"]',
                      lambda text: text == "Rp 100.000", "the national PKH moved to savings")
            wait_text(driver, '#agents tbody tr[data-agent="agen.cileunyi"]', lambda text: "Rp 40.000" in text,
                      "agent activity")
            step = "resources"
            urls = driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
            foreign = [url for url in urls if not url.startswith(base)]
            check(not foreign, f"the page loaded resources from elsewhere: {foreign}")
            screenshot = screenshots / "dashboard-screenshot.png"
            driver.save_screenshot(str(screenshot))
            print(f"ok   {len(urls)} resources, all from the KKS server; screenshots in {screenshots}")
        except Exception as error:
            print(f"FAIL {step}: {error}")
            if driver is not None:
                try:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    driver.save_screenshot(str(screenshots / "dashboard-failure.png"))
                    print(f"--- page error line: {driver.find_element(By.ID, 'error').text!r}")
                except Exception:
                    pass
            print(f"--- kks stderr (tail)\n{server.stderr_tail()}")
            return 1
        finally:
            if driver is not None:
                driver.quit()
            server.stop()
    print("dashboard in a headless browser: all checks passed")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kks", type=Path, help="the kks binary")
    parser.add_argument("--screenshots", type=Path, default=Path(__file__).resolve().parents[2] / "target",
                        help="where to save the screenshots (default: target/)")
    arguments = parser.parse_args()
    binary = arguments.kks.resolve()
    if not binary.is_file():
        print(f"no kks binary at {binary}", file=sys.stderr)
        return 2
    return run(str(binary), arguments.screenshots.resolve())


if __name__ == "__main__":
    sys.exit(main())
