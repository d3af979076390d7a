"""Shared by the browser checks under tests/browser/: Debian's chromium, headless, driven
through its chromedriver by Selenium, and the waits and checks every page's walk needs.
"""

import argparse
import shutil
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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


def main(run, description):
    """The command line every browser check has: the kks binary and a screenshots folder."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("kks", type=Path, help="the kks binary")
    parser.add_argument("--screenshots", type=Path, default=Path(__file__).resolve().parents[2] / "target",
                        help="where to save the screenshots (default: target/)")
    arguments = parser.parse_args()
    binary = arguments.kks.resolve()
    if not binary.is_file():
        print(f"no kks binary at {binary}", file=sys.stderr)
        return 2
    return run(str(binary), arguments.screenshots.resolve())
