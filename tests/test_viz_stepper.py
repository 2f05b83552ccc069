"""The HTML stepper in a real headless browser (Debian's chromium and chromedriver, through selenium)."""

import re
import shutil
import tempfile
from pathlib import Path

import pytest

import viz
from autodiff import Constant, format_number, trace
from test_viz import lecture_example

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How long a loaded machine may take to show a frame; a check that holds returns at once.
PATIENCE = 60


class Keys:
    """The WebDriver protocol's key codes (selenium's Keys, without importing selenium here)."""

    END, ARROW_LEFT, ARROW_RIGHT = "\ue010", "\ue012", "\ue014"


@pytest.fixture(scope="module")
def browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.skip(f"no headless browser: {', '.join(missing)} missing "
                    f"(install with `apt-get install chromium chromium-driver`)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        pytest.skip(f"selenium is not installed ({error}); `pip install selenium`")
    profile = tempfile.mkdtemp(prefix="viz-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    E, nodes = lecture_example()
    steps = trace(E).backward()
    path = viz.save_stepper(E, tmp_path_factory.mktemp("stepper") / "backprop.html")
    return path, steps


def state(driver):
    """What the reader sees: the counter, the caption, the highlighted node of the visible frame."""
    visible = [f for f in driver.find_elements("css selector", "section.frame") if f.is_displayed()]
    assert len(visible) == 1
    highlighted = visible[0].find_elements("css selector", "g.node.highlight > title")
    return (driver.find_element("id", "counter").text, driver.find_element("id", "caption").text,
            [h.get_attribute("textContent") for h in highlighted])


def state_at(driver, counter):
    """The state once the counter reads `counter` ('5 / 24').

    A page load, a click or a key press is handled by the page's script when the browser gets to
    it, and a change of only the URL's #step is a hashchange event that comes later still; so wait
    for the counter (the script sets it together with the caption and the visible frame).
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    def reads(d):
        return d.find_element("id", "counter").text == counter

    try:
        WebDriverWait(driver, PATIENCE, poll_frequency=0.05).until(reads)
    except TimeoutException:
        pytest.fail(f"the counter still reads {driver.find_element('id', 'counter').text!r} "
                    f"after {PATIENCE} s, not {counter!r}")
    return state(driver)


def test_page_is_self_contained(page):
    path, steps = page
    text = path.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text)
    assert text.count('<section class="frame"') == len(steps) + 1
    assert text.count("<svg") == len(steps) + 1


def test_next_and_arrow_keys_move_through_the_steps(browser, page):
    path, steps = page
    browser.get(path.as_uri())
    total = len(steps) + 1
    first = state_at(browser, f"1 / {total}")
    counter, caption, highlighted = first
    assert caption.startswith("E = ") and "∂E/∂E = 1" in caption
    graph = trace(steps[0].node)
    assert highlighted == ["v" + str(graph.nodes.index(steps[0].node))]

    browser.find_element("id", "next").click()
    second = state_at(browser, f"2 / {total}")
    assert second[1] != caption and second[2] != highlighted
    for term in steps[1].terms:
        if not isinstance(term.parent, Constant):
            assert (f"∂{term.output_name}/∂{term.parent_name} += {format_number(term.grad)} × "
                    f"{format_number(term.local)} = {format_number(term.contribution)}") in second[1]

    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.ARROW_RIGHT)
    state_at(browser, f"3 / {total}")
    body.send_keys(Keys.ARROW_LEFT)
    assert state_at(browser, f"2 / {total}") == second
    body.send_keys(Keys.ARROW_LEFT)
    assert state_at(browser, f"1 / {total}") == first
    assert not browser.find_element("id", "prev").is_enabled()


def test_opens_at_the_step_in_the_url_and_ends_with_every_gradient(browser, page):
    path, steps = page
    total = len(steps) + 1
    browser.get(path.as_uri() + "#step=5")
    counter, caption, highlighted = state_at(browser, f"5 / {total}")
    assert caption.split("\n")[0].startswith(f"{steps[4].node_name} = ")
    w5_step = next(k for k, s in enumerate(steps) if any(t.parent_name == "w5" for t in s.terms))
    browser.get(path.as_uri() + f"#step={w5_step + 1}")
    assert "∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041" in state_at(browser, f"{w5_step + 1} / {total}")[1]

    browser.find_element("tag name", "body").send_keys(Keys.END)
    counter, caption, highlighted = state_at(browser, f"{total} / {total}")
    assert highlighted == []
    assert "done" in caption
    final = [f for f in browser.find_elements("css selector", "section.frame") if f.is_displayed()][0]
    text = final.get_attribute("textContent")
    assert "grad 0.082167041" in text and "grad 0.000438568" in text and "(so far)" not in text
    assert not browser.find_element("id", "next").is_enabled()


def test_zoom_switches_between_fitting_the_window_and_actual_size(browser, page):
    from selenium.webdriver.support.wait import WebDriverWait

    path, steps = page
    browser.get(path.as_uri() + "#step=3")
    state_at(browser, f"3 / {len(steps) + 1}")
    window = browser.execute_script("return document.documentElement.clientWidth")
    measure = ("const frame = Array.from(document.querySelectorAll('section.frame')).find(f => !f.hidden);"
               "return frame.querySelector('svg').getBoundingClientRect().width;")
    natural = browser.execute_script(  # the width dot asked for, in points (1 pt = 4/3 CSS px)
        measure.replace(".getBoundingClientRect().width", ".width.baseVal.valueInSpecifiedUnits * 4 / 3"))
    assert natural > window, "the lecture's graph is wider than the window at actual size"
    assert browser.execute_script(measure) <= window
    zoom = browser.find_element("id", "zoom")
    assert zoom.text == "Actual size"

    zoom.click()
    WebDriverWait(browser, PATIENCE).until(lambda d: d.execute_script(measure) > window)
    assert browser.execute_script(measure) == pytest.approx(natural, rel=0.01)
    assert zoom.text == "Fit to window"
    browser.find_element("tag name", "body").send_keys("z")
    WebDriverWait(browser, PATIENCE).until(lambda d: d.execute_script(measure) <= window)
    assert zoom.text == "Actual size"


def test_hostile_labels_show_as_text_and_run_nothing(browser, tmp_path):
    """Labels with markup, a NUL, a terminal escape, a lone surrogate and a right-to-left override."""
    from test_viz import hostile_graph
    from viz.text import visible

    label = '<img src=x onerror="window.pwned=1">\x00\x1b[31m\ud800\u202e</script>'
    x, E = hostile_graph(label)
    path = viz.save_stepper(E, tmp_path / "hostile.html")
    browser.get(path.as_uri() + "#step=2")
    counter, caption, _ = state_at(browser, "2 / 3")
    assert f"∂E{visible(label)}/∂{visible(label)} += -6 × -2 = 12" in caption
    assert browser.execute_script("return window.pwned === undefined && document.images.length === 0")
    drawing = [f for f in browser.find_elements("css selector", "section.frame") if f.is_displayed()][0]
    assert visible(label) in drawing.get_attribute("textContent")
