#!/usr/bin/env python3
"""The /docs page (Swagger UI, vendored) in a real headless browser.

Starts `kks serve` on a throwaway SQLite database with the demo data, opens /docs and waits
until Swagger UI has rendered every operation of /openapi.json. Then uses it as a client
team would: a family's access token (logged in over plain HTTP) goes into "Authorize", and
"Try it out" → "Execute" on `GET /v1/me` answers 200 with the family. Checks that every
resource came from the KKS server, that the page's Content-Security-Policy blocked nothing
(the browser's console has no violation), and saves target/docs-screenshot.png.

Usage: python tests/browser/docs.py PATH/TO/kks [--screenshots DIR]
Needs: chromium and chromium-driver (Debian), selenium (tests/browser/requirements.txt).
Exits 1 on any failure.
"""

import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from headless import WAIT_SECONDS, foreign_resources, main, policy_violations

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import check, login, request  # noqa: E402  (after the path is set)

FAMILY_NAME = "Siti Aminah"


def wait(driver, condition, what):
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(condition, message=what)


def click(driver, selector, what):
    wait(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, selector)), f"{what}: no clickable {selector!r}").click()


def steps(run, base, credentials):
    document = request("GET", f"{base}/openapi.json").json()
    operations = sum(1 for item in document["paths"].values() for key in item
                     if key in ("get", "put", "post", "delete", "patch"))
    family = next(f for f in credentials["families"] if f["recipient_name"] == FAMILY_NAME)

    run.step = "rendering every operation"
    driver = run.open("1400,1100")
    driver.get(f"{base}/docs")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == operations,
         f"{operations} operations rendered")
    title = driver.find_element(By.CSS_SELECTOR, ".info .title").text
    check(title.startswith("KKS API"), f"title {title!r}")
    check(driver.find_elements(By.CSS_SELECTOR, "#operations-edc-cash_withdrawal"),
          "the cash withdrawal is listed under edc")
    print(f"ok   Swagger UI rendered {operations} operations of {title!r}")

    run.step = "authorizing with a bearer token"
    token = login(base, "/v1/auth/families/login", {"card_number": family["card_number"], "pin": family["pin"]})
    click(driver, ".auth-wrapper .authorize", run.step)
    field = wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input")), run.step)
    field.send_keys(token)
    click(driver, ".modal-ux .auth-btn-wrapper .authorize", run.step)
    click(driver, ".modal-ux .btn-done", run.step)
    print("ok   the family's access token is in Authorize (bearer)")

    run.step = "trying GET /v1/me"
    click(driver, "#operations-auth-me .opblock-summary", run.step)
    click(driver, "#operations-auth-me .try-out__btn", run.step)
    click(driver, "#operations-auth-me .execute", run.step)
    status = wait(driver, EC.visibility_of_element_located(
        (By.CSS_SELECTOR, "#operations-auth-me .live-responses-table tr.response .response-col_status")), run.step)
    body = driver.find_element(By.CSS_SELECTOR, "#operations-auth-me .live-responses-table .microlight").text
    check(status.text.strip().startswith("200"), f"GET /v1/me answered {status.text!r}: {body}")
    check('"family"' in body, f"GET /v1/me speaks for the family: {body}")
    print("ok   Try it out: GET /v1/me answered 200 for the family")

    run.step = "resources and the console"
    urls, foreign = foreign_resources(driver, base)
    check(not foreign, f"the page loaded resources from elsewhere: {foreign}")
    console = driver.get_log("browser")
    violations = policy_violations(console)
    check(not violations, f"the page's policy blocked: {violations}")
    errors = [entry["message"] for entry in console
              if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]
    check(not errors, f"errors in the console: {errors}")
    run.screenshot("docs-screenshot.png")
    print(f"ok   {len(urls)} resources, all from the KKS server; no policy violation; "
          f"screenshot in {run.screenshots / 'docs-screenshot.png'}")


if __name__ == "__main__":
    sys.exit(main(steps, "docs", "docs page in a headless browser", __doc__.splitlines()[0]))
