"""The annotation page in a real browser: keyboard only, XSS, double submit, layout."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from annotation.models import Assignment, CriterionAnswer, Judgment, Role
from annotation.services.judgments import to_canonical
from tests.factories import ComparisonFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANNOTATE = "/p/demo/annotate/"


def _assignment_id(page) -> int:
    return int(page.get_attribute(".compare", "data-assignment"))


def _wait_for_next(page, previous: int) -> None:
    page.wait_for_function(
        """(previous) => {
            const el = document.querySelector('.compare');
            return !el ? !!document.getElementById('queue-empty')
                       : el.dataset.assignment !== String(previous);
        }""",
        arg=previous,
    )


def _focused_name(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.name")


def _current_section(page) -> str:
    return page.evaluate(
        "(() => { const s = document.querySelector('.is-current');"
        " return s ? (s.id || '') : ''; })()"
    )


def _answer_all(page, keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def test_annotator_completes_three_comparisons_with_the_keyboard_only(
    new_page, login_by_keyboard, demo_project, demo_annotator, demo_pairs
):
    page, probe = new_page()
    login_by_keyboard(page, "dana", ANNOTATE)
    # Focus starts on the first criterion, which is highlighted as the current section.
    assert _focused_name(page) == "criteria.correctness"
    assert _current_section(page) == "f-criteria-correctness"

    # The shortcut sheet and the guidelines open and close from the keyboard.
    page.keyboard.press("?")
    assert page.is_visible("#shortcuts-dialog")
    page.keyboard.press("Escape")
    assert not page.is_visible("#shortcuts-dialog")
    page.keyboard.press("g")
    assert page.is_visible("#guidelines-dialog")
    assert "Judge substance before style" in page.inner_text("#guidelines-dialog")
    page.keyboard.press("g")
    assert not page.is_visible("#guidelines-dialog")
    assert _focused_name(page) == "criteria.correctness"

    plans = []

    # Pair 1: answer in order; each answer moves on; overall Response 1, clearly (w).
    first = _assignment_id(page)
    _answer_all(page, "12")  # correctness left, helpfulness right
    assert _current_section(page) == "f-criteria-clarity-left"
    _answer_all(page, "42")  # clarity: left 4, right 2
    assert _current_section(page) == "f-overall"
    _answer_all(page, "1w")
    page.keyboard.press("Enter")
    _wait_for_next(page, first)
    plans.append(
        (first, "left", 2, {"correctness": "left", "helpfulness": "right"}, (4, 2), "", None)
    )
    # Focus is back on the first criterion of the new pair.
    assert _focused_name(page) == "criteria.correctness"
    assert "Saved" in page.inner_text("#form-status")

    # Pair 2: a tie overall (strength keys do nothing), a rationale, Ctrl+Enter to submit.
    second = _assignment_id(page)
    _answer_all(page, "t155")  # t is an alias of 3 (Tie)
    page.keyboard.press("3")
    page.keyboard.press("q")
    assert page.is_disabled("#f-strength input[value='1']")
    page.keyboard.press("r")
    page.keyboard.type("Equally good; 1 and 2 and q typed here are text.")
    page.keyboard.press("Control+Enter")
    _wait_for_next(page, second)
    plans.append(
        (
            second,
            "tie",
            None,
            {"correctness": "tie", "helpfulness": "left"},
            (5, 5),
            "Equally good; 1 and 2 and q typed here are text.",
            None,
        )
    )

    # Pair 3: navigate with j/k and arrows, change an answer, much better (e), Enter.
    third = _assignment_id(page)
    page.keyboard.press("j")
    assert _current_section(page) == "f-criteria-helpfulness"
    page.keyboard.press("2")  # helpfulness right, moves to clarity-left
    page.keyboard.press("k")
    page.keyboard.press("ArrowUp")
    assert _current_section(page) == "f-criteria-correctness"
    page.keyboard.press("1")
    page.keyboard.press("k")
    page.keyboard.press("2")  # changed my mind: correctness right
    page.keyboard.press("ArrowDown")
    assert _current_section(page) == "f-criteria-clarity-left"
    _answer_all(page, "31")
    _answer_all(page, "2e")
    page.keyboard.press("Enter")
    _wait_for_next(page, third)
    plans.append(
        (third, "right", 3, {"correctness": "right", "helpfulness": "right"}, (3, 1), "", None)
    )

    # The queue is empty, and the page says so.
    assert page.is_visible("#queue-empty")
    assert "all caught up" in page.inner_text("#queue-empty")
    probe.assert_clean()

    # What was stored matches what was chosen, mapped from display order to a / b.
    assert Judgment.objects.count() == 3
    for assignment_id, choice, strength, compare, (left, right), rationale, _ in plans:
        assignment = Assignment.objects.get(pk=assignment_id)
        shown = assignment.shown_left
        judgment = Judgment.objects.get(assignment=assignment)
        assert judgment.choice == to_canonical(choice, shown)
        assert judgment.strength == strength
        assert judgment.shown_left == shown
        assert judgment.rationale == rationale
        assert judgment.source == "ui"
        assert judgment.seconds is not None and 0 < judgment.seconds < 120
        assert judgment.idempotency_key
        for key, display in compare.items():
            answer = CriterionAnswer.objects.get(judgment=judgment, criterion__key=key)
            assert answer.choice == to_canonical(display, shown), key
        clarity = CriterionAnswer.objects.get(judgment=judgment, criterion__key="clarity")
        expected = (left, right) if shown == "a" else (right, left)
        assert (clarity.score_a, clarity.score_b) == expected


MALICIOUS = """# Totally normal answer

<script>window.pwned = 1; alert('script')</script>

<img src=x onerror="window.pwned = 2; alert('img')">

<svg onload="window.pwned = 3; alert('svg')"></svg>

[click](javascript:window.pwned=4;alert('link'))

[obfuscated](jav&#x09;ascript:window.pwned=5;alert('tab'))

<a href="javascript:window.pwned=6;alert('raw')">raw link</a>

[data](data:text/html,<script>alert('data')</script>)

<iframe src="javascript:alert('iframe')"></iframe>

<form action="/admin/"><input name=q autofocus onfocus="alert('focus')"></form>
"""


def test_malicious_response_executes_nothing(
    new_page, login_by_keyboard, demo_project, demo_annotator
):
    from tests.factories import PromptFactory, ResponseFactory

    prompt = PromptFactory(
        project=demo_project,
        messages=[{"role": "user", "content": "<img src=x onerror=alert('prompt')> hi"}],
    )
    ComparisonFactory(
        project=demo_project,
        prompt=prompt,
        response_a=ResponseFactory(prompt=prompt, text=MALICIOUS),
        response_b=ResponseFactory(prompt=prompt, text="<svg onload=alert('b')>"),
    )
    page, probe = new_page()
    login_by_keyboard(page, "dana", ANNOTATE)
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.pwned") == "undefined"
    # The payloads are on the page as text, not as elements.
    assert "<script>window.pwned" in page.inner_text(".responses")
    assert page.locator(".responses script, .responses img, .responses svg").count() == 0
    assert page.locator(".responses iframe, .responses form, .responses input").count() == 0
    assert page.locator("a[href^='javascript' i], a[href^='data' i]").count() == 0
    # Clicking what looks like a link does nothing either: the javascript: link stayed
    # markdown text, the obfuscated one became an <a> without href.
    page.get_by_text("[click](javascript:").click()
    page.get_by_text("obfuscated", exact=True).click()
    for i in range(page.locator(".responses a").count()):
        page.locator(".responses a").nth(i).click()
    page.wait_for_timeout(200)
    assert page.url.endswith(ANNOTATE)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert probe.dialogs == []
    probe.assert_clean()


def _fill_pair(page, overall="1", strength="w"):
    _answer_all(page, "1243")
    page.keyboard.press(overall)
    if strength:
        page.keyboard.press(strength)


def test_double_submit_and_replayed_request_store_one_judgment(
    new_page, login_by_keyboard, demo_project, demo_annotator, demo_pairs
):
    page, probe = new_page()
    login_by_keyboard(page, "dana", ANNOTATE)
    requests = []
    page.on(
        "request",
        lambda r: requests.append(r) if r.method == "POST" and "/judgment/" in r.url else None,
    )
    first = _assignment_id(page)
    _fill_pair(page)
    page.dblclick("#submit-button")
    _wait_for_next(page, first)
    page.wait_for_timeout(300)
    assert Judgment.objects.count() == 1
    assert len(requests) == 1  # the button was disabled while the request was in flight

    # Replaying the very same request (a network retry) returns the stored judgment.
    original = requests[0]
    headers = original.headers
    replay = page.evaluate(
        """async ({url, body, key, csrf}) => {
            const r = await fetch(url, {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                        'Idempotency-Key': key, 'X-CSRFToken': csrf}, body});
            return {status: r.status, data: await r.json()};
        }""",
        {
            "url": original.url,
            "body": original.post_data,
            "key": headers["idempotency-key"],
            "csrf": headers["x-csrftoken"],
        },
    )
    assert replay["status"] == 200
    assert replay["data"]["status"] == "replayed"
    assert Judgment.objects.count() == 1
    judgment = Judgment.objects.get()
    assert judgment.assignment_id == first
    assert judgment.idempotency_key == headers["idempotency-key"]
    assert json.loads(original.post_data)["seconds"] > 0
    probe.assert_clean()


def test_failed_submit_keeps_input_and_explains(
    new_page, login_by_keyboard, demo_project, demo_annotator, demo_pairs
):
    page, probe = new_page()
    # One route handler for the whole test, switched by ``mode`` and registered before the
    # page loads: a route added while the page is open may miss the next request.
    mode = {"now": "online"}
    canned = {
        "400": (400, {"errors": {"criteria.correctness": ["The server disagrees."]}}),
        "409": (409, {"detail": "Already judged."}),
    }

    def handle(route):
        if mode["now"] == "offline":
            route.abort()
        elif mode["now"] in canned:
            status, body = canned[mode["now"]]
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/judgment/", handle)
    login_by_keyboard(page, "dana", ANNOTATE)
    first = _assignment_id(page)

    # Missing answers: said next to the field, client side, nothing sent.
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    assert "Answer “Helpfulness”" in page.inner_text('[data-error-for="criteria.helpfulness"]')
    assert "Choose the better response" in page.inner_text('[data-error-for="choice"]')
    assert _current_section(page) == "f-criteria-helpfulness"
    assert _focused_name(page) == "criteria.helpfulness"
    page.keyboard.press("2")
    assert page.inner_text('[data-error-for="criteria.helpfulness"]') == ""
    _answer_all(page, "43")
    _answer_all(page, "1w")

    # A network failure: the input stays, the message says so, the button works again.
    mode["now"] = "offline"
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-status:has-text('could not reach the server')")
    assert page.is_enabled("#submit-button")
    assert page.is_checked("input[name='criteria.correctness'][value='left']")
    assert page.is_checked("input[name='strength'][value='2']")
    assert page.evaluate("document.activeElement !== document.body")

    # A 400 from the server: its field messages appear next to the fields.
    mode["now"] = "400"
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-error-for="criteria.correctness"]:has-text("The server")')
    assert _current_section(page) == "f-criteria-correctness"

    # A 409 is explained too.
    mode["now"] = "409"
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-status:has-text('Already judged.')")
    assert Judgment.objects.count() == 0

    # Back online: the same key goes through, once.
    mode["now"] = "online"
    page.keyboard.press("Enter")
    _wait_for_next(page, first)
    assert Judgment.objects.count() == 1
    assert Judgment.objects.get().assignment_id == first
    assert probe.dialogs == [] and probe.page_errors == []


def test_skip_with_shift_s(new_page, login_by_keyboard, demo_project, demo_annotator, demo_pairs):
    page, probe = new_page()
    login_by_keyboard(page, "dana", ANNOTATE)
    first = _assignment_id(page)
    page.keyboard.press("s")  # plain s does nothing
    assert _assignment_id(page) == first
    page.keyboard.press("Shift+S")
    _wait_for_next(page, first)
    assert Assignment.objects.get(pk=first).status == "skipped"
    assert _focused_name(page) == "criteria.correctness"
    probe.assert_clean()


def test_annotator_of_another_project_cannot_open_its_pages(
    new_page, login_by_keyboard, demo_project, demo_pairs
):
    from tests.factories import ProjectFactory

    other = ProjectFactory(slug="other")
    user = UserFactory(username="olga")
    MembershipFactory(project=other, user=user, role=Role.ANNOTATOR)
    page, _probe = new_page()
    login_by_keyboard(page, "olga", "/")
    for path in ("/p/demo/annotate/", "/p/demo/guidelines/", "/p/demo/dashboard/"):
        response = page.goto(path)
        assert response.status == 404, path
    assert not Assignment.objects.filter(annotator=user).exists()


def test_app_pages_have_no_csp_violations(
    new_page, login_by_keyboard, demo_project, demo_annotator, demo_pairs
):
    researcher = UserFactory(username="rita")
    MembershipFactory(project=demo_project, user=researcher, role=Role.RESEARCHER)
    page, probe = new_page()
    page.goto("/accounts/login/")
    probe.assert_clean()
    login_by_keyboard(page, "rita", "/")
    for path in ("/", "/p/demo/dashboard/", "/p/demo/guidelines/"):
        page.goto(path)
        probe.assert_clean()
    page2, probe2 = new_page()
    login_by_keyboard(page2, "dana", ANNOTATE)
    page2.keyboard.press("?")
    page2.keyboard.press("Escape")
    probe2.assert_clean()


def test_screenshots_desktop_and_narrow(
    new_page, login_by_keyboard, artifacts, demo_project, demo_annotator, demo_pairs
):
    """Desktop: responses side by side, rubric beside them. Narrow: everything stacks."""
    page, probe = new_page(1280, 900)
    login_by_keyboard(page, "dana", ANNOTATE)
    # The display order is random; fix it so that the committed screenshot is stable.
    assignment = Assignment.objects.get(pk=_assignment_id(page))
    assert assignment.comparison.external_id == "dedupe-1"
    Assignment.objects.filter(pk=assignment.pk).update(shown_left="a")
    page.reload()
    # Show the page mid-task: two criteria answered, the rating row current.
    _answer_all(page, "12")
    page.mouse.move(0, 0)
    boxes = [page.locator(".response").nth(i).bounding_box() for i in (0, 1)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 and boxes[1]["x"] > boxes[0]["x"]
    rubric = page.locator(".rubric").bounding_box()
    assert rubric["x"] > boxes[1]["x"]
    desktop = artifacts / "compare-desktop.png"
    page.screenshot(path=str(desktop))
    probe.assert_clean()

    narrow, narrow_probe = new_page(390, 844)
    login_by_keyboard(narrow, "dana", ANNOTATE)
    boxes = [narrow.locator(".response").nth(i).bounding_box() for i in (0, 1)]
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
    narrow.screenshot(path=str(artifacts / "compare-narrow.png"), full_page=True)
    narrow_probe.assert_clean()

    # The committed copy is refreshed on request only, so a test run leaves the tree clean.
    committed = artifacts.parent / "docs" / "screenshots" / "compare-desktop.png"
    if os.environ.get("TIEBREAK_UPDATE_SCREENSHOTS") or not committed.exists():
        committed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(desktop, committed)
