"""The HTML stepper in a real headless browser (Debian's chromium and chromedriver, through selenium).

Every test runs on the page a notebook gets inside `viz.stepper(E)`'s `<iframe srcdoc>`, taken out of
the iframe and loaded on its own; `make_page` checks that it is, byte for byte, the file `save_stepper`
writes, so one run in the browser covers both.
"""

import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

import viz
from autodiff import Constant, trace
from test_viz import lecture_example

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How long a loaded machine may take to show a frame; a check that holds returns at once.
PATIENCE = 60
WINDOW = (1400, 1000)
WIDE = 2400              # a window in which the lecture's network fits with text of 8 px or more
SMALLEST_TEXT_PX = 8


class Keys:
    """The WebDriver protocol's key codes (selenium's Keys, without importing selenium here)."""

    HOME, END, ARROW_LEFT, ARROW_RIGHT = "\ue011", "\ue010", "\ue012", "\ue014"


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
                 "--no-first-run", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def window(browser):
    """Resize the browser's window for one test; the usual size is given back afterwards."""
    yield lambda width, height=WINDOW[1]: browser.set_window_size(width, height)
    browser.set_window_size(*WINDOW)


class _Iframes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.found.append(dict(attrs))


def iframe_of(html_text):
    """The attributes of the one <iframe> in `html_text`, as an HTML parser reads them (srcdoc unescaped)."""
    reader = _Iframes()
    reader.feed(html_text)
    reader.close()
    assert len(reader.found) == 1, reader.found
    return reader.found[0]


def make_page(output, folder, **options):
    """The stepper page of `output` as a file: the page of stepper()'s iframe, once it is checked to be the
    page save_stepper writes."""
    saved = viz.save_stepper(output, folder / "saved.html", **options)
    inline = folder / "inline.html"
    inline.write_text(iframe_of(viz.stepper(output, **options)._repr_html_())["srcdoc"], encoding="utf-8")
    assert inline.read_bytes() == saved.read_bytes(), "the notebook's page and the saved page are one page"
    return inline


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    E, nodes = lecture_example()
    steps = trace(E).backward()
    return make_page(E, tmp_path_factory.mktemp("stepper")), steps


@pytest.fixture(scope="module")
def updates_page(tmp_path_factory):
    E, nodes = lecture_example()
    return make_page(E, tmp_path_factory.mktemp("updates"), lr=0.5), E


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


def term_line(term):
    return f"{term.derivative()}   {term.update()}"


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
    assert second[1] == str(steps[1])
    for term in steps[1].terms:
        if not isinstance(term.parent, Constant):
            assert term_line(term) in second[1]

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
    assert caption.split("\n")[0] == steps[4].head()
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


def test_captions_write_each_local_derivative_with_its_formula(browser, page):
    path, steps = page
    out_o1 = next(k for k, s in enumerate(steps) if s.node_name == "out_o1")
    browser.get(path.as_uri() + f"#step={out_o1 + 1}")
    caption = state_at(browser, f"{out_o1 + 1} / {len(steps) + 1}")[1]
    assert caption.split("\n") == [
        "out_o1 = σ(net_o1): ∂E/∂out_o1 = 0.74136507",
        "    ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602   ∂E/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562"]


MEASURE_FIT = """
const frame = Array.from(document.querySelectorAll('section.frame')).find(f => !f.hidden);
const svg = frame.querySelector('svg');
return [svg.getBoundingClientRect().width, svg.width.baseVal.value, document.documentElement.clientWidth];
"""


def test_zoom_fits_the_window_where_text_stays_readable_and_shows_actual_size_otherwise(browser, page, window):
    from selenium.webdriver.support.wait import WebDriverWait

    path, steps = page
    total = len(steps) + 1
    zoom = lambda: browser.find_element("id", "zoom")  # noqa: E731 - found again after each load
    window(WIDE)
    browser.get(path.as_uri() + "#step=3")
    state_at(browser, f"3 / {total}")
    shown, natural, room = browser.execute_script(MEASURE_FIT)
    assert natural > room, "the lecture's graph is wider than even the wide window at actual size"
    assert shown <= room and zoom().is_enabled() and zoom().text == "Actual size"
    zoom().click()
    WebDriverWait(browser, PATIENCE).until(lambda d: d.execute_script(MEASURE_FIT)[0] > room)
    assert browser.execute_script(MEASURE_FIT)[0] == pytest.approx(natural, rel=0.01)
    assert zoom().text == "Fit to window"
    browser.find_element("tag name", "body").send_keys("z")
    WebDriverWait(browser, PATIENCE).until(lambda d: d.execute_script(MEASURE_FIT)[0] <= room)
    assert zoom().text == "Actual size"

    # fitted to the usual window the lecture's text would be about 5 px: actual size, and it says why
    window(*WINDOW)
    WebDriverWait(browser, PATIENCE).until(lambda d: not d.find_element("id", "zoom").is_enabled())
    shown, natural, room = browser.execute_script(MEASURE_FIT)
    assert shown == pytest.approx(natural, rel=0.01) and natural > room
    assert zoom().text == "Fit to window"
    note = browser.find_element("id", "fitnote").text
    fitted = float(re.fullmatch(r"actual size: fitted to this window its text would be ([0-9.]+) px", note)[1])
    assert fitted < SMALLEST_TEXT_PX


SMALLEST_TEXT = """
const frame = Array.from(document.querySelectorAll('section.frame')).find(f => !f.hidden);
let bySize = Infinity, byBox = Infinity;
frame.querySelectorAll('svg text').forEach(function (text) {
  if (!text.textContent.trim()) { return; }
  const m = text.getScreenCTM();
  bySize = Math.min(bySize, parseFloat(getComputedStyle(text).fontSize) * Math.hypot(m.a, m.b));
  byBox = Math.min(byBox, text.getBoundingClientRect().height);
});
return [bySize, byBox];
"""


@pytest.mark.parametrize("width", [600, WINDOW[0], WIDE])
@pytest.mark.parametrize("zoomed", [False, True], ids=["fitted", "actual size"])
def test_text_is_never_shown_below_8_px(browser, page, window, width, zoomed):
    """Measured in Chromium: each text's computed font size times its scale on screen, and its box's height."""
    path, steps = page
    window(width)
    browser.get(path.as_uri() + "#step=2")
    state_at(browser, f"2 / {len(steps) + 1}")
    if zoomed and browser.find_element("id", "zoom").text == "Actual size":
        browser.find_element("id", "zoom").click()
    body = browser.find_element("tag name", "body")
    for k in (2, 12, len(steps) + 1):
        browser.execute_script(f"location.hash = '#step={k}'")
        state_at(browser, f"{k} / {len(steps) + 1}")
        by_size, by_box = browser.execute_script(SMALLEST_TEXT)
        assert by_size >= SMALLEST_TEXT_PX - 1e-6, (width, zoomed, k, by_size)
        assert by_box >= SMALLEST_TEXT_PX, (width, zoomed, k, by_box)
    body.send_keys(Keys.HOME)


NODE_BOX = """
const frame = Array.from(document.querySelectorAll('section.frame')).find(f => !f.hidden);
const node = frame.querySelector('g.node.highlight');
if (!node) { return null; }
const box = node.getBoundingClientRect();
return [box.left, box.top, box.right, box.bottom, document.querySelector('header').getBoundingClientRect().bottom,
        document.documentElement.clientWidth, document.documentElement.clientHeight,
        document.getElementById('frames').classList.contains('actual')];
"""
# The page's own key handler, run for every frame in one call: `key` pressed `count` times, the
# counter and the current node's box (NODE_BOX) read after each press.
WALK = ("const boxes = [];\n"
        "for (let k = 0; k < arguments[0]; k++) {\n"
        "  document.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[1], bubbles: true}));\n"
        "  boxes.push([document.getElementById('counter').textContent, (function () {"
        + NODE_BOX + "})()]);\n"
        "}\n"
        "return boxes;")


def assert_in_view(box, where):
    assert box is not None, f"{where}: a node is highlighted"
    left, top, right, bottom, header, width, height, actual = box
    assert actual, f"{where}: shown at actual size"
    assert 0 <= left and right <= width and header <= top and bottom <= height, \
        (where, (left, top, right, bottom), (header, width, height))


@pytest.mark.parametrize("how", ["chosen", "too wide to fit"])
def test_at_actual_size_the_current_node_is_in_view_at_every_step(browser, updates_page, window, how):
    path, E = updates_page
    steps = len(trace(E).backward())
    frames = steps + 1 + 10
    window(WIDE if how == "chosen" else WINDOW[0], 700)
    browser.get(path.as_uri())
    state_at(browser, f"1 / {frames}")
    if how == "chosen":
        browser.find_element("id", "zoom").click()
    assert_in_view(browser.execute_script(NODE_BOX), "step 1")
    body = browser.find_element("tag name", "body")
    for k in (2, 3):        # pressed as a reader does
        body.send_keys(Keys.ARROW_RIGHT)
        state_at(browser, f"{k} / {frames}")
        assert_in_view(browser.execute_script(NODE_BOX), f"step {k}")
    forward = browser.execute_script(WALK, frames - 3, "ArrowRight")
    assert [counter for counter, _ in forward] == [f"{k} / {frames}" for k in range(4, frames + 1)]
    for k, (_, box) in enumerate(forward, start=4):
        if k != steps + 1:      # the final frame highlights nothing
            assert_in_view(box, f"step {k}")
    back = browser.execute_script(WALK, frames - 1, "ArrowLeft")
    for k, (counter, box) in zip(range(frames - 1, 0, -1), back):
        assert counter == f"{k} / {frames}"
        if k != steps + 1:
            assert_in_view(box, f"back at step {k}")


def test_node_in_the_url_opens_the_step_that_completes_its_gradient(browser, page):
    """#node=NAME opens the step whose terms give NAME its last contribution: the frame where ∂E/∂NAME is
    complete (for E itself, the first)."""
    path, steps = page
    total = len(steps) + 1
    last = {}
    for k, step in enumerate(steps, start=1):
        for term in step.terms:
            last[term.parent_name] = k
    assert last["w5"] == next(k for k, s in enumerate(steps, 1) if any(t.parent_name == "w5" for t in s.terms))
    browser.get(path.as_uri() + "#node=w5")
    caption = state_at(browser, f"{last['w5']} / {total}")[1]
    assert "∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041" in caption
    graph = trace(steps[0].node)
    shown = last["w5"]
    for name in ("w5·out_h1", "out_h1", "(0.01 − out_o1)²", "b1", "i2"):
        assert [s.node_name for s in steps if any(t.parent_name == name for t in s.terms)][-1] == \
            steps[last[name] - 1].node_name
        assert last[name] != shown, "each name moves the page, so reading its step shows the move happened"
        browser.execute_script("location.hash = arguments[0]", "#node=" + quote(name))
        state_at(browser, f"{last[name]} / {total}")
        shown = last[name]
    browser.get("about:blank")
    browser.get(path.as_uri() + "#node=E")
    assert state_at(browser, f"1 / {total}")[2] == ["v" + str(graph.nodes.index(graph.output))]
    browser.execute_script("location.hash = '#node=w5'")
    state_at(browser, f"{last['w5']} / {total}")
    browser.execute_script("location.hash = '#node=nothing'")
    state_at(browser, f"1 / {total}")
    assert browser.find_element("id", "notice").text == "no node named nothing in this graph"


def test_the_list_of_steps_names_each_steps_node_and_jumps_to_it(browser, page):
    from selenium.webdriver.support.select import Select

    path, steps = page
    total = len(steps) + 1
    browser.get(path.as_uri())
    state_at(browser, f"1 / {total}")
    jump = Select(browser.find_element("id", "jump"))
    texts = [option.text for option in jump.options]
    assert texts == [f"{k} · {s.node_name}" for k, s in enumerate(steps, 1)] + [f"{total} · all gradients ∂E/∂·"]
    k = next(k for k, s in enumerate(steps, 1) if s.node_name == "w5·out_h1")
    jump.select_by_visible_text(f"{k} · w5·out_h1")
    assert "∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041" in state_at(browser, f"{k} / {total}")[1]
    browser.find_element("id", "next").click()
    state_at(browser, f"{k + 1} / {total}")
    assert jump.first_selected_option.text == f"{k + 1} · {steps[k].node_name}"


def test_a_learning_rate_adds_one_update_frame_per_parameter(browser, updates_page):
    from selenium.webdriver.support.select import Select

    path, E = updates_page
    graph = trace(E)
    steps = graph.backward()
    names = ["b1", "b2"] + [f"w{k}" for k in range(1, 9)]
    total = len(steps) + 1 + len(names)
    browser.get(path.as_uri())
    state_at(browser, f"1 / {total}")
    jump = Select(browser.find_element("id", "jump"))
    assert [o.text for o in jump.options][len(steps) + 1:] == \
        [f"{k} · update {name}" for k, name in enumerate(names, len(steps) + 2)]
    jump.select_by_visible_text(f"{len(steps) + 2 + names.index('w5')} · update w5")
    counter, caption, highlighted = state_at(browser, f"{len(steps) + 2 + names.index('w5')} / {total}")
    assert caption == "w5⁺ = w5 − α·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648"
    w5 = next(n for n in graph.nodes if n.label == "w5")
    assert highlighted == ["v" + str(graph.nodes.index(w5))]
    frame = [f for f in browser.find_elements("css selector", "section.frame") if f.is_displayed()][0]
    assert "data 0.4 → 0.35891648" in frame.get_attribute("textContent")
    browser.find_element("tag name", "body").send_keys(Keys.END)
    assert state_at(browser, f"{total} / {total}")[1] == \
        "w8⁺ = w8 − α·∂E/∂w8 = 0.55 − 0.5 × -0.022740242 = 0.561370121"
    browser.get(path.as_uri() + "#node=w5")
    state_at(browser, f"{next(k for k, s in enumerate(steps, 1) if s.node_name == 'w5·out_h1')} / {total}")


def test_hostile_labels_show_as_text_and_run_nothing(browser, tmp_path):
    """Labels with markup, a NUL, a terminal escape, a lone surrogate and a right-to-left override."""
    from autodiff.notation import partial
    from test_viz import hostile_graph
    from viz.text import visible

    label = '<img src=x onerror="window.pwned=1">\x00\x1b[31m\ud800\u202e</script>'
    x, E = hostile_graph(label)
    path = make_page(E, tmp_path)
    browser.get(path.as_uri() + "#step=2")
    counter, caption, _ = state_at(browser, "2 / 3")
    assert f"{visible(partial('E' + label, label))} += -6 × -2 = 12" in caption
    assert browser.execute_script("return window.pwned === undefined && document.images.length === 0")
    drawing = [f for f in browser.find_elements("css selector", "section.frame") if f.is_displayed()][0]
    assert visible(label) in drawing.get_attribute("textContent")
    options = [o.text for o in browser.find_elements("css selector", "#jump option")]
    assert options[1] == f"2 · {visible(trace(E).backward()[1].node_name)}"
    browser.get(path.as_uri() + "#node=" + quote(visible(label)))
    state_at(browser, "2 / 3")
    assert browser.execute_script("return window.pwned === undefined && document.images.length === 0")


def test_the_inline_stepper_runs_inside_its_sandboxed_iframe(browser, tmp_path):
    """A notebook shows `_repr_html_`'s iframe: its script runs there and its keys work."""
    E, _ = lecture_example()
    total = len(trace(E).backward()) + 1
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html>\n<html><body><p>a notebook cell</p>{viz.stepper(E)._repr_html_()}"
                    f"</body></html>\n", encoding="utf-8")
    browser.get(host.as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        state_at(browser, f"1 / {total}")
        browser.find_element("id", "next").click()
        state_at(browser, f"2 / {total}")
        browser.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
        assert state_at(browser, f"3 / {total}")[1] == str(trace(E).backward()[2])
        assert browser.execute_script("return window.origin") == "null", "sandboxed: an opaque origin"
    finally:
        browser.switch_to.default_content()
