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

import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from headless import WAIT_SECONDS, foreign_resources, main, wait_text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import Terminal, check  # noqa: E402  (after the path is set)

# The page polls every 2 s.
OPERATOR = "admin"
AGENT = "agen.cileunyi"
FAMILY_NAME = "Siti Aminah"
DRILL_DOWN = ["32", "32.04", "32.04.12", "32.04.12.2001"]


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


def steps(run, base, credentials):
    run.error_lines.append("#error")
    operator = next(o for o in credentials["operators"] if o["username"] == OPERATOR)
    agent = next(a for a in credentials["agents"] if a["username"] == AGENT)
    family = next(f for f in credentials["families"] if f["recipient_name"] == FAMILY_NAME)

    run.step = "logging in"
    driver = run.open("1400,1100", language="id")
    driver.get(f"{base}/dashboard")
    driver.find_element(By.ID, "username").send_keys(operator["username"])
    driver.find_element(By.ID, "password").send_keys(operator["password"])
    driver.find_element(By.ID, "login-button").click()

    run.step = "the national overview"
    wait_text(driver, "#region-title", lambda text: text.startswith("Nasional"), run.step)
    national_credited = wait_text(driver, '#headline [data-figure="wallet_pkh.credited"]',
                                  lambda text: text.startswith("Rp "), run.step)
    check(national_credited == "Rp 2.000.000", f"national PKH credited {national_credited!r}: 4 demo families × Rp 500.000")
    wait_text(driver, '#regions tbody tr[data-code="33"]', lambda text: "Jawa Tengah" in text, run.step)
    print(f"ok   logged in as {OPERATOR}; national overview shows PKH credited {national_credited}")

    for code in DRILL_DOWN:
        run.step = f"drilling down to {code}"
        click_row(driver, f'#regions tbody tr[data-code="{code}"]', run.step)
        wait_text(driver, "#region-title", lambda text, code=code: text.endswith(f"{code})"), run.step)
    village_withdrawn = wait_text(driver, '#headline [data-figure="savings.withdrawn_in_cash"]',
                                  lambda text: text.startswith("Rp "), "the village headline")
    print(f"ok   drilled down to village {DRILL_DOWN[-1]}; cash withdrawn there: {village_withdrawn}")

    run.step = "opening the family"
    click_row(driver, f'#families tbody tr[data-family="{family["family_id"]}"]', run.step)
    wait_text(driver, "#family-title", lambda text: text.startswith(FAMILY_NAME), run.step)
    savings_before = wait_text(driver, '#family-pockets [data-figure="savings.balance"]',
                               lambda text: text.startswith("Rp "), run.step)
    print(f"ok   family page of {FAMILY_NAME}: savings {savings_before}")

    run.step = "card transactions while the page is open"
    terminal = Terminal(base, agent)
    terminal.send("/v1/edc/wallet-to-savings", family, {"amount": "100000"})
    terminal.send("/v1/edc/cash-withdrawals", family, {"amount": "40000"})
    savings_after = wait_text(driver, '#family-pockets [data-figure="savings.balance"]',
                              lambda text: text == "Rp 60.000", "the family's savings after the transactions")
    print(f"ok   agent moved Rp 100.000 to savings and paid Rp 40.000 in cash; the page changed "
          f"{savings_before} → {savings_after} by itself")
    run.screenshot("dashboard-family.png")

    run.step = "back to the village"
    driver.back()
    village_after = wait_text(driver, '#headline [data-figure="savings.withdrawn_in_cash"]',
                              lambda text: text == "Rp 40.000", "the village's cash withdrawn")
    check(village_after != village_withdrawn, "the village figure did not change")
    print(f"ok   the village's cash withdrawn changed {village_withdrawn} → {village_after}")

    run.step = "the national overview again"
    driver.find_element(By.CSS_SELECTOR, "#breadcrumbs a").click()
    wait_text(driver, '#headline [data-figure="wallet_pkh.moved_to_savings"]',
              lambda text: text == "Rp 100.000", "the national PKH moved to savings")
    wait_text(driver, '#agents tbody tr[data-agent="agen.cileunyi"]', lambda text: "Rp 40.000" in text,
              "agent activity")
    run.step = "resources"
    urls, foreign = foreign_resources(driver, base)
    check(not foreign, f"the page loaded resources from elsewhere: {foreign}")
    run.screenshot("dashboard-screenshot.png")
    print(f"ok   {len(urls)} resources, all from the KKS server; screenshots in {run.screenshots}")


if __name__ == "__main__":
    sys.exit(main(steps, "dashboard", "dashboard in a headless browser", __doc__.splitlines()[0]))
