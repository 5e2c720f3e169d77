"""The site and the browser terminal in a real headless browser (Debian's chromium through
chromedriver and Selenium), served by a whole node (`run_node` with `web_port`)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.harness import running_board
from tests.web.conftest import PASSWORD, SUBSCRIBER, web_config

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

_SCREEN = """
const buffer = window.lotusTerminal.buffer.active;
const lines = [];
for (let i = 0; i < buffer.length; i++) {
  lines.push(buffer.getLine(i).translateToString(true));
}
return lines.join("\\n");
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browser(profile: Path, downloads: Path) -> webdriver.Chrome:
    """A headless chromium with a fresh profile, no network chatter of its own."""
    assert CHROMIUM and CHROMEDRIVER, "chromium and chromium-driver: run 'make setup'"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def wait_until(check: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    """Poll `check` until it returns something true (a browser offers no event to await)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def site_story(base: str, driver: webdriver.Chrome, downloads: Path, files_dir: Path) -> None:
    """Index in three languages, a directory search, a note and its file, sign-in, the KB."""
    for lang, title in (
        ("fr", "Index d'aide - Assistance clients Lotus"),
        ("en", "Help index - Lotus customer support"),
        ("de", "Hilfeindex - Lotus Kundendienst"),
    ):
        driver.get(f"{base}/?lang={lang}")
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert heading == title, driver.page_source[:2000]
    driver.get(f"{base}/annuaire?lang=fr")
    box = driver.find_element(By.NAME, "q")
    box.send_keys("belgique", Keys.ENTER)
    wait_until(lambda: "+32 2 714 31 29" in driver.page_source, "the Belgian numbers")
    # A note with a file: read it, download the file, compare the bytes.
    driver.get(f"{base}/bibliotheque/categorie/pilote")
    driver.find_element(By.CSS_SELECTOR, "table.list a").click()
    link = driver.find_element(By.CSS_SELECTOR, 'a[href^="/fichiers/"]')
    name = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    target = downloads / name
    wait_until(lambda: target.exists() and target.stat().st_size > 0, "the download")
    wait_until(lambda: target.read_bytes() == (files_dir / name).read_bytes(), "whole file")
    # The Knowledge base: refused to a guest, allowed once a subscriber signs in.
    driver.get(f"{base}/kb?q=imprim*")
    assert "Base Lotus Knowledge" in driver.page_source, driver.page_source[:2000]
    assert not driver.find_elements(By.CSS_SELECTOR, 'a[href^="/kb/"]'), driver.page_source
    driver.find_element(By.NAME, "name").send_keys(SUBSCRIBER.name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD, Keys.ENTER)
    wait_until(lambda: SUBSCRIBER.name in driver.page_source, "the signed-in page")
    driver.get(f"{base}/kb?q=imprim*")
    assert driver.find_elements(By.CSS_SELECTOR, 'a[href^="/kb/"]'), driver.page_source


def terminal_story(base: str, driver: webdriver.Chrome, shots: Path) -> None:
    """The browser terminal: welcome, guest sign-in, GO ANNUAIRE, belgique; a screenshot."""
    driver.get(f"{base}/terminal")

    def screen() -> str:
        return str(driver.execute_script(_SCREEN))

    wait_until(lambda: "Entrée" in screen(), "the welcome screen")
    keys = driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
    keys.send_keys(Keys.ENTER)
    wait_until(lambda: "Votre nom :" in screen(), "the name prompt")
    keys.send_keys("INVITE", Keys.ENTER)
    wait_until(lambda: "Index d'aide - Assistance clients Lotus" in screen(), "the index")
    keys.send_keys("q")
    wait_until(lambda: "Votre choix" in screen(), "the menu prompt")
    keys.send_keys("GO ANNUAIRE", Keys.ENTER)
    wait_until(lambda: "Annuaire" in screen(), "the directory prompt")
    keys.send_keys("belgique", Keys.ENTER)
    wait_until(lambda: "+32 2 714 31 29" in screen(), "the Belgian card")
    shots.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(shots / "terminal-belgique.png"))


async def test_site_and_terminal_in_chromium(web_db: str, tmp_path: Path) -> None:
    config = web_config(web_db, tmp_path, web_port=free_port())
    async with running_board(config) as running:
        base = f"http://127.0.0.1:{running.web_port}"
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        driver = await asyncio.to_thread(browser, tmp_path / "profile", downloads)
        try:
            files_dir = Path(running.data_dir) / "files"
            await asyncio.to_thread(site_story, base, driver, downloads, files_dir)
            await asyncio.to_thread(terminal_story, base, driver, tmp_path / "artefacts")
        except BaseException:
            await asyncio.to_thread(driver.save_screenshot, str(tmp_path / "failure.png"))
            raise
        finally:
            await asyncio.to_thread(driver.quit)
    print(f"screenshot: {tmp_path / 'artefacts' / 'terminal-belgique.png'}")
