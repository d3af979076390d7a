"""Shared by the browser checks under tests/browser/: Debian's chromium, headless, driven
through its chromedriver by Selenium, and the waits and checks every page's walk needs.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kks_server import Server  # noqa: E402  (after the path is set)

# Long enough for a debug build on a busy machine.
WAIT_SECONDS = 30


def chromium(window_size, language=None):
    """A headless chromium with a window of `window_size` ("width,height") whose console
    (Content-Security-Policy violations, errors) can be read."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={window_size}"):
        options.add_argument(argument)
    if language:
        options.add_argument(f"--lang={language}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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


def foreign_resources(driver, base):
    """The resources the page loaded from anywhere but the KKS server at `base`."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    return urls, [url for url in urls if not url.startswith(base)]


def policy_violations(console):
    """The console lines of a Content-Security-Policy violation."""
    return [entry["message"] for entry in console if "Content Security Policy" in entry["message"]]


class Walk:
    """One browser check's run against a fresh `kks serve` with the demo data: the step being
    done (said when it fails), the browser once it is opened, where screenshots go."""

    def __init__(self, server, screenshots):
        self.server = server
        self.screenshots = screenshots
        self.step = "starting kks"
        self.driver = None
        # Selectors of the page's own error lines, printed when a check fails.
        self.error_lines = []

    def open(self, window_size, language=None):
        self.driver = chromium(window_size, language)
        return self.driver

    def screenshot(self, file_name):
        self.driver.save_screenshot(str(self.screenshots / file_name))


def walk(binary, screenshots, name, steps):
    """Runs `steps(walk, base, credentials)`; the exit status: 0 when every check passed. On
    a failure prints the step, the page's error lines, the browser's console and the
    server's stderr, and saves SCREENSHOTS/NAME-failure.png."""
    screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"kks-{name}-") as directory:
        server = Server(binary, directory)
        run = Walk(server, screenshots)
        try:
            base = server.wait_listening()
            steps(run, base, json.loads(server.credentials_path.read_text()))
        except Exception as error:
            print(f"FAIL {run.step}: {error}")
            if run.driver is not None:
                try:
                    run.screenshot(f"{name}-failure.png")
                    for selector in run.error_lines:
                        print(f"--- page {selector}: {text_of(run.driver, selector)!r}")
                    for entry in run.driver.get_log("browser"):
                        print(f"--- console: {entry['level']} {entry['message']}")
                except Exception:
                    pass
            print(f"--- kks stderr (tail)\n{server.stderr_tail()}")
            return 1
        finally:
            if run.driver is not None:
                run.driver.quit()
            server.stop()
    return 0


def main(steps, name, title, description):
    """The command line every browser check has: the kks binary and a screenshots folder.
    Prints "TITLE: all checks passed" at the end of a walk whose checks all passed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("kks", type=Path, help="the kks binary")
    parser.add_argument("--screenshots", type=Path, default=Path(__file__).resolve().parents[2] / "target",
                        help="where to save the screenshots (default: target/)")
    arguments = parser.parse_args()
    binary = arguments.kks.resolve()
    if not binary.is_file():
        print(f"no kks binary at {binary}", file=sys.stderr)
        return 2
    status = walk(str(binary), arguments.screenshots.resolve(), name, steps)
    if status == 0:
        print(f"{title}: all checks passed")
    return status
