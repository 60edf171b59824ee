"""The web page's live mode in headless chromium, a WAV file as its microphone.

Chromium's fake capture device plays the file in a loop; the page streams it to /v1/realtime
and writes each completed turn. The recognizer's text is a function of the audio (tone words),
so the turns shown are known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.app.server.support import KEY, fake_service, live_server, make_app
from tests.app.use_cases.streaming.tone_words import WORDS, ToneWordRecognizer, speech

from qasr.adapters.audio import write_wav

webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("websocket")
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]
TURNS = [[0, 3, 5], [7, 9, 1]]


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pause = np.zeros(24_000, np.float32)
    audio = np.concatenate([pause] + [part for turn in TURNS for part in (speech(turn), pause)])
    path = tmp_path_factory.mktemp("mic") / "speech.wav"
    write_wav(path, audio, 16_000)
    return path


@pytest.fixture(scope="module")
def browser(microphone: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    yield driver
    driver.quit()


def test_the_live_mode_writes_each_turn(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    app = make_app(tmp_path, fake_service(ToneWordRecognizer()))
    with live_server(app) as url:
        browser.get(url + "/")
        browser.find_element(By.ID, "api-key").send_keys(KEY)
        browser.find_element(By.ID, "live-start").click()
        expected = [" ".join(WORDS[index] for index in turn) for turn in TURNS]

        def shown(_: Any) -> bool:
            lines = browser.find_element(By.ID, "live-text").text.splitlines()
            return all(turn in lines for turn in expected)

        WebDriverWait(browser, 40).until(shown)
        assert "error" not in browser.find_element(By.ID, "live-status").get_attribute("class")
        browser.find_element(By.ID, "live-stop").click()
        WebDriverWait(browser, 10).until(lambda _: not app.state.qasr_realtime)
