#!/usr/bin/env python3
"""The family app (/app) in a real headless browser, on a small phone's screen (360×740).

Starts `kks serve` on a throwaway SQLite database with the demo data. Over HTTP, operator
operator.jabar places an investigation hold of Rp 100.000 on Siti Aminah's PKH wallet,
ending in 30 days, and agent agen.cileunyi moves Rp 50.000 of her PKH money to savings and
pays her Rp 20.000 in cash. Then, as the family in the browser: opens /app (Bahasa
Indonesia), logs in with the card number and PIN, sees the pockets with the hold explained
in plain words and when it ends, the history; switches to English and back; files a
complaint and sees it in the list with its status and timeline (an operator sees it too);
reports the card lost, first cancelling the confirmation (nothing changes), then confirming
(the API says the card is lost); logs out (nothing of the family stays on the phone) and
logs in as Dewi Lestari, whose PKH wallet supervisor.jabar blocked by closing a cycle in
which she missed her check-ups, and sees the block explained. Then goes offline (DevTools
network emulation) and reloads: the app opens from its service worker's cache and shows
the last balances with the time they were fetched; and again with the server stopped.
Checks that chromium finds the app installable (manifest, icons, worker), that every
resource came from the KKS server and that the page's Content-Security-Policy blocked
nothing, and saves screenshots (default target/family-app*.png).

Usage: python tests/browser/family_app.py PATH/TO/kks [--screenshots DIR]
Needs: chromium and chromium-driver (Debian), selenium (tests/browser/requirements.txt).
Exits 1 on any failure.
"""

import datetime
import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from headless import WAIT_SECONDS, foreign_resources, main, policy_violations, wait_text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import Terminal, check, login, request  # noqa: E402  (after the path is set)

OPERATOR = "operator.jabar"
AGENT = "agen.cileunyi"
SUPERVISOR = "supervisor.jabar"
FAMILY_NAME = "Siti Aminah"
SUSPENDED_NAME = "Dewi Lestari"
VILLAGE = "32.04.12.2001"
# A small phone's screen: 360 × 740 CSS pixels, drawn at twice the density.
PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
PKH = '#pockets [data-pocket="wallet_pkh"]'
SAVINGS = '#pockets [data-pocket="savings"]'
HOLD = f'{PKH} .hold[data-reason="investigation"]'
SUSPENSION = f'{PKH} .hold[data-reason="commitment_suspension"]'


def click(driver, selector, what):
    WebDriverWait(driver, WAIT_SECONDS).until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)),
                                              message=f"{what}: no clickable {selector!r}").click()


def tab(driver, name):
    click(driver, f'#tabs button[data-view="{name}"]', f"the {name} tab")


def log_in(driver, family, what):
    """Types the family's card number and PIN as a person would, and waits for its name."""
    driver.find_element(By.ID, "card").send_keys(family["card_number"])
    driver.find_element(By.ID, "pin").send_keys(family["pin"])
    click(driver, "#login-button", what)
    wait_text(driver, "#who", lambda text: text == family["recipient_name"], what)


def card_status(base, operator_token, card_number):
    answer = request("GET", f"{base}/v1/cards/{card_number}", token=operator_token)
    check(answer.status == 200, f"the card: {answer.describe()}")
    return answer.json()["status"]


def confirm_dialog(driver, accept):
    dialog = WebDriverWait(driver, WAIT_SECONDS).until(EC.alert_is_present(), message="no confirmation dialog")
    text = dialog.text
    if accept:
        dialog.accept()
    else:
        dialog.dismiss()
    return text


def shows_no_placeholder(driver, what):
    """Nothing on the page reads "null", "undefined" or an untranslated key."""
    text = driver.execute_script("return document.body.textContent")
    for placeholder in ("null", "undefined", "NaN", "complaint.", "category.", "hold.", "card.", "kind.", "pocket.", "tab."):
        check(placeholder not in text, f"{what}: {placeholder!r} on the page")


def steps(run, base, credentials):
    operator = next(o for o in credentials["operators"] if o["username"] == OPERATOR)
    agent = next(a for a in credentials["agents"] if a["username"] == AGENT)
    family = next(f for f in credentials["families"] if f["recipient_name"] == FAMILY_NAME)

    run.step = "a hold and two card transactions over HTTP"
    operator_token = login(base, "/v1/auth/operators/login",
                           {"username": operator["username"], "password": operator["password"]})
    ends = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).replace(microsecond=0)
    hold = request("POST", f"{base}/v1/families/{family['family_id']}/holds", token=operator_token,
                   body={"pocket": "wallet_pkh", "amount": "100000", "reference": "pemeriksaan 17/2026",
                         "release_at": ends.replace(tzinfo=None).isoformat()})
    check(hold.status == 201, f"the hold: {hold.describe()}")
    terminal = Terminal(base, agent)
    terminal.send("/v1/edc/wallet-to-savings", family, {"amount": "50000"})
    terminal.send("/v1/edc/cash-withdrawals", family, {"amount": "20000"})
    print(f"ok   {OPERATOR} held Rp 100.000 of {FAMILY_NAME}'s PKH wallet until {ends:%Y-%m-%d %H:%M} UTC; "
          f"{AGENT} moved Rp 50.000 to savings and paid Rp 20.000 in cash")

    run.step = "a family suspended for a missed commitment"
    suspended = next(f for f in credentials["families"] if f["recipient_name"] == SUSPENDED_NAME)
    profile = request("GET", f"{base}/v1/families/{suspended['family_id']}", token=operator_token).json()
    failure = request("POST", f"{base}/v1/verifications", token=operator_token,
                      body={"family_id": suspended["family_id"], "cycle": "2017-1", "complied": False,
                            "member_id": profile["members"][0]["id"], "obligation": "pregnancy_checkups"})
    check(failure.status == 204, f"the failed verification: {failure.describe()}")
    supervisor = next(o for o in credentials["operators"] if o["username"] == SUPERVISOR)
    supervisor_token = login(base, "/v1/auth/operators/login",
                             {"username": supervisor["username"], "password": supervisor["password"]})
    closed = request("POST", f"{base}/v1/cycles/2017-1/close?region={VILLAGE}", token=supervisor_token, body={})
    check(closed.status == 200 and closed.json()["suspended"] == 1, f"closing the cycle: {closed.describe()}")
    print(f"ok   {SUSPENDED_NAME} missed her pregnancy check-ups in cycle 2017-1; {SUPERVISOR} closed it: suspended")

    run.step = "opening /app in Bahasa Indonesia"
    driver = run.open(f"{PHONE['width']},{PHONE['height']}")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/app")
    check(driver.current_url == f"{base}/app/", f"/app leads to /app/, not {driver.current_url}")
    wait_text(driver, "#login-button", lambda text: text == "Masuk", run.step)
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id", "the page is in Indonesian")
    width = driver.execute_script("return innerWidth")
    check(width == PHONE["width"], f"a {PHONE['width']} px wide viewport, not {width}")
    print("ok   /app opens the login in Bahasa Indonesia at 360 px")

    run.step = "logging in with the card number and PIN"
    log_in(driver, family, run.step)
    pkh = wait_text(driver, f'{PKH} [data-figure="available"]', lambda text: text == "Rp 350.000",
                    "the PKH wallet: Rp 500.000, Rp 50.000 moved to savings, Rp 100.000 held")
    savings = wait_text(driver, f'{SAVINGS} [data-figure="available"]', lambda text: text == "Rp 30.000",
                        "savings: Rp 50.000 moved in, Rp 20.000 withdrawn")
    print(f"ok   logged in as {FAMILY_NAME}: PKH wallet can use {pkh}, savings {savings}")

    run.step = "the hold explained"
    hold_text = wait_text(driver, HOLD, lambda text: "Rp 100.000 ditahan" in text, run.step)
    for words in ("pemeriksaan oleh petugas", "Berakhir", str(ends.year), "pemeriksaan 17/2026"):
        check(words in hold_text, f"{words!r} in the hold's words: {hold_text!r}")
    updated = wait_text(driver, "#updated", lambda text: text.startswith("Terakhir diperbarui "), run.step)
    shows_no_placeholder(driver, run.step)
    run.screenshot("family-app.png")
    print(f"ok   the hold reads {hold_text.splitlines()!r}; {updated!r}")

    run.step = "an access token refused: renewed with the refresh token"
    driver.execute_script("const session = JSON.parse(localStorage.getItem('kks.app.session'));"
                          "session.access_token = 'refused'; localStorage.setItem('kks.app.session', JSON.stringify(session));")
    click(driver, "#refresh", run.step)
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return JSON.parse(localStorage.getItem('kks.app.session')).access_token") != "refused",
        message="the refused access token was never renewed")
    check(driver.find_element(By.ID, "home").is_displayed() and not driver.find_element(By.ID, "connection").is_displayed(),
          "still logged in, no error line")
    # The refused calls are in the console; nothing else may be.
    unexpected = [entry["message"] for entry in driver.get_log("browser") if "401 (Unauthorized)" not in entry["message"]]
    check(not unexpected, f"the console: {unexpected}")
    print("ok   a refused access token was renewed with the refresh token; still logged in")

    run.step = "the history"
    tab(driver, "history")
    history = wait_text(driver, "#history", lambda text: "Tarik tunai" in text and "Pindah ke tabungan" in text,
                        run.step)
    check("Rp 20.000" in history and "Rp 50.000" in history and "e-Wallet PKH" in history,
          f"the amounts and pockets in the history: {history!r}")
    shows_no_placeholder(driver, run.step)
    run.screenshot("family-app-history.png")
    print("ok   the history lists the cash withdrawal (Rp 20.000) and the move to savings (Rp 50.000)")

    run.step = "English, and back"
    click(driver, "#lang", run.step)
    wait_text(driver, "#history", lambda text: "Cash withdrawal" in text, run.step)
    wait_text(driver, '#tabs button[data-view="balances"]', lambda text: text == "Balance", run.step)
    tab(driver, "balances")
    wait_text(driver, HOLD, lambda text: "Rp 100,000 held" in text and "Ends" in text, run.step)
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the page says it is English")
    click(driver, "#lang", run.step)
    wait_text(driver, HOLD, lambda text: "Rp 100.000 ditahan" in text, run.step)
    print("ok   switched to English (\"Rp 100,000 held … Ends …\") and back to Bahasa Indonesia")

    run.step = "filing a complaint"
    tab(driver, "complaints")
    Select(driver.find_element(By.ID, "category")).select_by_value("stage_not_received")
    driver.find_element(By.ID, "description").send_keys("Tahap 2 belum masuk ke rekening")
    driver.find_element(By.ID, "contact").send_keys("0812-0000-0000")
    click(driver, "#complaint-send", run.step)
    message = wait_text(driver, "#complaint-message", lambda text: "terkirim" in text, run.step)
    listed = wait_text(driver, "#complaints li[data-complaint]",
                       lambda text: "Bantuan tahap ini belum masuk" in text and "Diterima" in text, run.step)
    complaint_id = driver.find_element(By.CSS_SELECTOR, "#complaints li[data-complaint]").get_attribute(
        "data-complaint")
    click(driver, f'#complaints li[data-complaint="{complaint_id}"] button', "opening the complaint")
    wait_text(driver, "#complaint-detail", lambda text: "Perjalanan pengaduan" in text, "the complaint's timeline")
    driver.find_element(By.ID, "comment").send_keys("Sudah tiga minggu")
    click(driver, "#complaint-detail button", "adding a note")
    wait_text(driver, "#complaint-detail", lambda text: "Sudah tiga minggu" in text, "the note in the timeline")
    shows_no_placeholder(driver, run.step)
    seen = request("GET", f"{base}/v1/complaints/{complaint_id}", token=operator_token)
    check(seen.status == 200 and seen.json()["channel"] == "app" and seen.json()["family_id"] == family["family_id"],
          f"the operator sees the family's complaint from the app: {seen.describe()}")
    run.screenshot("family-app-complaint.png")
    print(f"ok   {message!r}; listed as {listed.splitlines()[0]!r}; the operator sees it (channel app)")

    run.step = "reporting the card lost"
    tab(driver, "card")
    wait_text(driver, "#card-status", lambda text: text == "Aktif", run.step)
    click(driver, "#report-lost", run.step)
    asked = confirm_dialog(driver, accept=False)
    check(card_status(base, operator_token, family["card_number"]) == "active",
          "cancelling the confirmation changed nothing")
    click(driver, "#report-lost", run.step)
    confirm_dialog(driver, accept=True)
    wait_text(driver, "#card-status", lambda text: text == "Dilaporkan hilang: diblokir", run.step)
    wait_text(driver, "#card-message", lambda text: "sudah diblokir" in text, run.step)
    check(card_status(base, operator_token, family["card_number"]) == "lost", "the API says the card is lost")
    check(not driver.find_element(By.ID, "report-lost").is_displayed(), "a lost card cannot be reported again")
    shows_no_placeholder(driver, run.step)
    print(f"ok   the confirmation asked {asked!r}; cancelled: still active; confirmed: the card is lost")

    run.step = "logging out"
    click(driver, "#logout", run.step)
    wait_text(driver, "#login-button", lambda text: text == "Masuk", run.step)
    kept = driver.execute_script("return [localStorage.getItem('kks.app.session'), localStorage.getItem('kks.app.data')]")
    check(kept == [None, None], f"logging out leaves nothing of the family on the phone: {kept}")
    check(not driver.find_element(By.ID, "home").is_displayed(), "the family's pages are gone")
    print("ok   logged out: the session and the kept answers are gone from the phone")

    run.step = "a suspended family's wallet"
    log_in(driver, suspended, run.step)
    wait_text(driver, f'{PKH} [data-figure="available"]', lambda text: text == "Rp 0", run.step)
    block = wait_text(driver, SUSPENSION, lambda text: "diblokir sejak" in text, run.step)
    for words in ("komitmen PKH belum dipenuhi", "dibuka kembali bila keluarga memenuhi komitmen"):
        check(words in block, f"{words!r} in the block's words: {block!r}")
    shows_no_placeholder(driver, run.step)
    run.screenshot("family-app-suspended.png")
    print(f"ok   {SUSPENDED_NAME}'s PKH wallet: Rp 0 usable; the block reads {block.splitlines()!r}")

    run.step = "resources and the console, online"
    urls, foreign = foreign_resources(driver, base)
    check(not foreign, f"the page loaded resources from elsewhere: {foreign}")
    console = driver.get_log("browser")
    check(not policy_violations(console), f"the page's policy blocked: {policy_violations(console)}")
    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    check(not errors, f"errors in the console: {errors}")
    print(f"ok   {len(urls)} resources, all from the KKS server; no policy violation, no error")

    run.step = "offline: the service worker is ready"
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return document.body.dataset.offlineReady === 'true' "
                                   "&& navigator.serviceWorker.controller !== null"),
        message="the service worker never took control of the page")
    # Chrome's own verdict on the manifest, icons and worker: the app can be installed.
    manifest = driver.execute_cdp_cmd("Page.getAppManifest", {})
    check(manifest["url"] == f"{base}/app/manifest.webmanifest" and not manifest["errors"],
          f"the manifest: {manifest['url']} {manifest['errors']}")
    installability = driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})["installabilityErrors"]
    check(not installability, f"chromium says the app cannot be installed: {installability}")
    print("ok   installable: chromium finds the manifest without errors and no installability error")
    tab(driver, "balances")
    updated = wait_text(driver, "#updated", lambda text: text.startswith("Terakhir diperbarui "), run.step)
    pkh = wait_text(driver, f'{PKH} [data-figure="available"]', lambda text: text.startswith("Rp "), run.step)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    for how in ("DevTools says offline", "and the server stopped"):
        run.step = f"offline ({how}): reloading"
        driver.refresh()
        wait_text(driver, "#connection", lambda text: text.startswith("Tidak ada koneksi internet"), run.step)
        check(wait_text(driver, "#updated", lambda text: text.startswith("Terakhir"), run.step) == updated,
              f"the balances' time {updated!r} shows offline")
        check(wait_text(driver, f'{PKH} [data-figure="available"]', lambda text: True, run.step) == pkh,
              f"the PKH wallet's {pkh} shows offline")
        wait_text(driver, SUSPENSION, lambda text: "diblokir sejak" in text, run.step)
        print(f"ok   offline ({how}): the app opens from the cache with {pkh} and {updated!r}")
        if how == "DevTools says offline":
            run.screenshot("family-app-offline.png")
            run.server.stop()
    print(f"ok   screenshots in {run.screenshots}")


if __name__ == "__main__":
    sys.exit(main(steps, "family-app", "family app in a headless browser", __doc__.splitlines()[0]))
