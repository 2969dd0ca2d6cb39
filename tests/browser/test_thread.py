"""The thread in a real browser: post, reply, vote, edit, delete, sort, load more, deep replies."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import (
    card,
    comment,
    main_form,
    open_widget,
    post_comment_ui,
    seed,
    seed_votes,
    wait_ready,
)

pytestmark = pytest.mark.browser


def test_post_reply_vote_edit_and_delete(page, publisher, no_dialogs, page_errors):
    url = publisher.page(t="lifecycle")
    open_widget(page, url)
    heading = page.locator(".eg-widget .eg-toolbar h2")
    expect(heading).to_have_text("0 Comments")

    form = main_form(page)
    post_comment_ui(form, "The quay **deserves** this.", name="Ada")
    expect(form.locator(".eg-status")).to_have_text("Your comment is published.")
    first = card(page, "The quay deserves this.")
    expect(first.locator(".eg-body strong")).to_have_text("deserves")
    expect(first.locator(".eg-name")).to_have_text("Ada")
    expect(heading).to_have_text("1 Comment")
    expect(form.locator("textarea")).to_have_value("")

    # Reply: the form opens under the comment, takes focus, and the reply nests under it.
    first.get_by_role("button", name="Reply to Ada").click()
    reply_form = first.locator("form.eg-form")
    expect(reply_form.locator("textarea")).to_be_focused()
    post_comment_ui(reply_form, "What about deliveries?", name="Bob")
    reply = comment(page, "The quay deserves this.").locator(".eg-replies .eg-comment").first
    expect(reply.locator(".eg-body")).to_have_text("What about deliveries?")
    expect(reply_form).to_have_count(0)
    expect(heading).to_have_text("2 Comments")

    # Votes toggle, switch, and survive a reload (the reader id lives in localStorage).
    up = first.get_by_role("button", name="Vote up")
    down = first.get_by_role("button", name="Vote down")
    up.click()
    expect(first.locator(".eg-score")).to_have_text("1")
    expect(first.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "true")
    first.get_by_role("button", name="Vote up").click()
    expect(first.locator(".eg-score")).to_have_text("0")
    down.click()
    expect(first.locator(".eg-score")).to_have_text("-1")
    page.reload()
    wait_ready(page)
    first_id = comment(page, "The quay deserves this.").get_attribute("data-id")
    first = page.locator(f"#engagement-comment-{first_id} > .eg-card")
    expect(first.locator(".eg-score")).to_have_text("-1")
    expect(first.get_by_role("button", name="Vote down")).to_have_attribute("aria-pressed", "true")

    # Edit: the textarea holds the markdown as written; the saved text shows "edited".
    first.get_by_role("button", name="Edit", exact=True).click()
    editor = first.locator("form.eg-edit textarea")
    expect(editor).to_have_value("The quay **deserves** this.")
    editor.fill("The quay _really_ deserves this.")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".eg-body")).to_have_text("The quay really deserves this.")
    expect(first.locator(".eg-body em")).to_have_text("really")
    expect(first.locator(".eg-edited")).to_contain_text("edited")

    # Delete with replies: a placeholder stays and the reply with it.
    first.get_by_role("button", name="Delete", exact=True).click()
    first.get_by_role("button", name="Yes, delete").click()
    placeholder = page.locator(".eg-thread > .eg-comment > .eg-card.eg-deleted")
    expect(placeholder).to_contain_text("This comment was deleted.")
    expect(page.locator(".eg-thread .eg-replies .eg-body")).to_have_text("What about deliveries?")
    expect(heading).to_have_text("1 Comment")

    # Delete the reply: it goes, and stays gone after a reload.
    reply = page.locator(".eg-replies .eg-comment > .eg-card").first
    reply.get_by_role("button", name="Delete", exact=True).click()
    reply.get_by_role("button", name="Yes, delete").click()
    expect(page.locator(".eg-replies .eg-comment")).to_have_count(0)
    page.reload()
    wait_ready(page)
    expect(page.locator(".eg-thread .eg-body", has_text="What about deliveries?")).to_have_count(0)


def test_only_the_author_may_edit_or_delete(page, publisher, engagement):
    url = publisher.page(t="not-mine")
    seed(engagement, url, body="Someone else's view.")
    open_widget(page, url)
    other = card(page, "Someone else's view.")
    expect(other.get_by_role("button", name="Reply to Grace")).to_be_visible()
    expect(other.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(other.get_by_role("button", name="Delete", exact=True)).to_have_count(0)


def test_form_refuses_empty_fields_and_names_them(page, publisher, page_errors):
    open_widget(page, publisher.page(t="empty-form"))
    form = main_form(page)
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".eg-status")).to_have_text("Write something first.")
    expect(form.locator("textarea")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("textarea")).to_be_focused()
    form.locator("textarea").fill("Hello")
    form.get_by_label("Name").fill("")
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".eg-status")).to_have_text("Please tell us your name.")
    expect(form.get_by_label("Name")).to_be_focused()
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(0)


def test_notify_needs_an_email(page, publisher):
    open_widget(page, publisher.page(t="notify-select"))
    form = main_form(page)
    notify = form.get_by_label("Notify of")
    expect(notify).to_be_disabled()
    form.get_by_label("E-mail").fill("ada@example.org")
    expect(notify).to_be_enabled()
    options = notify.locator("option").all_text_contents()
    assert options == ["Nothing", "New follow-up comments", "New replies to my comments"]
    form.get_by_label("E-mail").fill("")
    expect(notify).to_be_disabled()
    expect(notify).to_have_value("none")


def test_a_moderated_comment_says_it_waits(page, publisher):
    open_widget(page, publisher.page(t="moderated", site="queued"))
    form = main_form(page)
    post_comment_ui(form, "Please check me first.")
    expect(form.locator(".eg-status")).to_have_text("Thanks! Your comment is waiting for moderation.")
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(0)


def test_sort_and_load_more(page, publisher, engagement):
    url = publisher.page(t="paging", limit="2")
    posted = [seed(engagement, url, body=f"Comment number {n}.", author_name=f"Reader {n}") for n in range(5)]
    seed_votes(engagement, posted[1].comment.id, 1, 3)
    seed_votes(engagement, posted[3].comment.id, 1, 1)
    open_widget(page, url)
    bodies = page.locator(".eg-thread > .eg-comment > .eg-card > .eg-body")
    expect(bodies).to_have_text(["Comment number 4.", "Comment number 3."])
    expect(page.locator(".eg-toolbar h2")).to_have_text("5 Comments")

    page.get_by_role("button", name="Load more comments").click()
    expect(bodies).to_have_count(4)
    expect(bodies.nth(2)).to_have_text("Comment number 2.")
    expect(page.locator(".eg-thread > .eg-comment").nth(2).locator(":scope > .eg-card")).to_be_focused()
    page.get_by_role("button", name="View all comments").click()
    expect(bodies).to_have_text([f"Comment number {n}." for n in (4, 3, 2, 1, 0)])
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()

    page.get_by_label("Sort by").select_option(label="Oldest")
    expect(bodies).to_have_text(["Comment number 0.", "Comment number 1."])
    page.get_by_label("Sort by").select_option(label="Most voted")
    expect(bodies).to_have_text(["Comment number 1.", "Comment number 3."])


def test_deep_replies_are_flattened_with_context(page, publisher, engagement):
    url = publisher.page(t="deep")
    parent = seed(engagement, url, body="Level zero.", author_name="Ann")
    names = ["Ben", "Cleo", "Dan", "Eve", "Finn"]
    for depth, name in enumerate(names, start=1):
        parent = seed(engagement, url, body=f"Level {depth}.", author_name=name, parent=parent.comment.id)
    open_widget(page, url)
    # Three levels shown: 0, 1 and 2; levels 3-5 sit beside level 2 with "@name" naming their parent.
    expect(page.locator(".eg-replies .eg-replies .eg-replies")).to_have_count(0)
    deepest = page.locator(".eg-replies .eg-replies").first
    expect(deepest.locator(":scope > .eg-comment > .eg-card > .eg-body")).to_have_text(
        ["Level 2.", "Level 3.", "Level 4.", "Level 5."]
    )
    expect(deepest.locator(":scope > .eg-comment .eg-context")).to_have_text(["@Cleo", "@Dan", "@Eve"])

    # A reply to the deepest shown comment lands beside it, with its context.
    last = deepest.locator(":scope > .eg-comment > .eg-card").last
    last.get_by_role("button", name="Reply to Finn").click()
    post_comment_ui(last.locator("form"), "Level 6.", name="Gus")
    expect(deepest.locator(":scope > .eg-comment > .eg-card > .eg-body").last).to_have_text("Level 6.")
    expect(deepest.locator(":scope > .eg-comment .eg-context").last).to_have_text("@Finn")
