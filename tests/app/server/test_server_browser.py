"""The web page in a real headless browser: Debian's chromium driven by selenium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.app.server.support import KEY, fake_service, live_server, make_app, write_tone

from qasr.adapters.writers import get_writer, render

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
        "chromium-driver; .ci/run installs them)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


def test_pick_a_file_watch_it_finish_and_download_every_format(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    audio = write_tone(tmp_path / "meeting.wav", 3.0)
    expected = fake_service().transcribe(audio, timestamps=True)
    with live_server(make_app(tmp_path, fake_service())) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "api-key").send_keys(KEY)
        browser.find_element(By.ID, "timestamps").click()
        browser.find_element(By.ID, "file").send_keys(str(audio))
        wait = WebDriverWait(browser, 20)
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), "Done"))
        assert browser.find_element(By.ID, "transcript").text == expected.text
        assert browser.find_element(By.ID, "progress").get_attribute("value") == "1"
        wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#downloads a")) == 4)
        links = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
        assert [link.get_attribute("download") for link in links] == [
            "meeting.txt", "meeting.json", "meeting.srt", "meeting.vtt",
        ]  # fmt: skip
        for link in links:
            name = link.get_attribute("data-format")
            body = browser.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0]).then((r) => r.text()).then(done);",
                link.get_attribute("href"),
            )
            assert body == render(get_writer(name), expected), name


def test_a_wrong_key_shows_the_servers_message(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    audio = write_tone(tmp_path / "a.wav", 1.0)
    with live_server(make_app(tmp_path, fake_service())) as url:
        browser.get(url + "/")
        browser.execute_script("localStorage.clear()")
        browser.get(url + "/")
        browser.find_element(By.ID, "api-key").send_keys("not-the-key-00")
        browser.find_element(By.ID, "file").send_keys(str(audio))
        WebDriverWait(browser, 20).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "status"), "not valid")
        )
        assert "error" in browser.find_element(By.ID, "status").get_attribute("class")
