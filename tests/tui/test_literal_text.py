"""User and document text is shown literally everywhere: titles, previews, citations, dialogs, file
names and notifications. Markup-like text such as `See [/terms] here` once crashed the app."""

from rich.text import Text
from textual.widgets import DataTable, ListView

from tests.tui.helpers import app_on, ask, chunk_opened, ready, toasts, type_text, wait_for
from tui.app import QuarryApp
from tui.widgets.dialogs import ConfirmScreen, RenameScreen
from tui.widgets.message_box import CitationList, MessageBox
from tui.widgets.scope_picker import ScopePicker

NOTE = "# What does [/note] mean?\nSee [/terms] here. The zebra warranty covers [/x] parts for 12 months.\n"


def rendered(widget) -> str:
    return str(widget.render())


async def test_question_with_markup_survives_a_restart(demo_workspace):
    """The chat title `What does [/x] mean?` crashed the list, and again on every launch."""
    root = demo_workspace.root
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "What does [/x] mean?")
        listing = app.query_one("#chat-list", ListView)
        await wait_for(pilot, lambda: len(listing.children) == 1)
        assert "What does [/x] mean?" in rendered(listing.children[0].query_one(".chat-title"))
    again = QuarryApp(root, warm_models=False)
    async with again.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        listing = again.query_one("#chat-list", ListView)
        assert "What does [/x] mean?" in rendered(listing.children[0].query_one(".chat-title"))
        # The last chat opens on launch, its question shown as written.
        await wait_for(pilot, lambda: len(again.query(MessageBox)) == 2)
        assert again.query(MessageBox).first().text == "What does [/x] mean?"
        await pilot.press("ctrl+r")
        assert isinstance(again.screen, RenameScreen)
        assert again.screen.query_one("#rename-input").value == "What does [/x] mean?"
        await pilot.press("escape")
        listing.focus()
        await pilot.press("delete")
        assert isinstance(again.screen, ConfirmScreen)
        assert "“What does [/x] mean?”" in rendered(again.screen.query_one("#confirm-question"))
        await pilot.press("y")
        await wait_for(pilot, lambda: any("Deleted “What does [/x] mean?”" in m for m in toasts(again)))


async def test_documents_with_markup_in_names_text_and_headings(demo_workspace, tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "[bold]notes.md").write_text(NOTE)
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await type_text(pilot, str(folder))
        await pilot.press("enter")
        pane = app.query_one("#documents-pane")
        await wait_for(pilot, lambda: pane.ingests == 1, timeout=60)
        table = app.query_one("#doc-table", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert any(n.endswith("[bold]notes.md") for n in names)
        await pilot.press("ctrl+f", *"zebra warranty covers parts")
        hits = app.query_one("#hit-table", DataTable)
        await wait_for(pilot, lambda: hits.row_count > 0 and "[bold]notes.md" in str(hits.get_row_at(0)[2]),
                       timeout=30)
        preview = rendered(app.query_one("#hit-preview"))
        assert "[bold]notes.md" in preview and "See [/terms] here." in preview
        hits.focus()
        await pilot.press("enter")
        await chunk_opened(pilot)
        assert "[bold]notes.md" in rendered(app.screen.query_one("#chunk-where"))
        assert "See [/terms] here" in rendered(app.screen.query_one("#chunk-text"))
        await pilot.press("escape")
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "[bold]notes.md" in rendered(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        # the Chat pane's document picker and the scope in the prompt's title
        await pilot.press("f1")
        app.query_one("#prompt").focus()
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker), timeout=10)
        await type_text(pilot, "notes")
        assert "[bold]notes.md" in str(app.screen.query_one("#scope-list").get_option_at_index(0).prompt)
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: "[bold]notes.md" in str(app.query_one("#prompt").border_title), timeout=10)


async def test_notifications_are_literal(demo_workspace):
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f2", "ctrl+n")
        await pilot.press(*"/no/such/[/x]", "enter")
        await pilot.pause(0.2)
        assert any("/no/such/[/x]: no such file or folder" in m for m in toasts(app))
        app.notify("See [/terms] here")  # a toast from anywhere: still literal
        await pilot.pause(0.2)
        assert app.is_running


async def test_citations_unsupported_and_nearest_passages_are_literal(demo_workspace):
    """A stored answer whose citations, ⚠ line and nearest passages hold markup-like text renders."""
    store = demo_workspace.store
    hit = demo_workspace.searcher().search("return window for opened electronics", 1).hits[0]
    chat = store.create_chat("What does [/note] mean?", "smollm2-135m", mode="docs")
    store.add_message(chat, "user", "What does [/note] mean?")
    citation = {"number": 1, "chunk_id": hit.chunk_id, "path": "/docs/[b]terms.pdf", "page": 2,
                "span": [0, 5], "span_text": "See [/terms] here.", "support": 0.9}
    record = {"citations": [citation], "unsupported": ["It means [/x] always"], "refused": True,
              "nearest": [{"chunk_id": hit.chunk_id, "path": "/docs/[i]b.md", "page": None,
                           "text": "What does [/note] mean? See [/terms] here."}]}
    store.add_message(chat, "assistant", "See [/terms] here [1]. It means [/x] always ⚠.", {}, record)
    app = app_on(demo_workspace, warm_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: len(app.query(CitationList)) == 2)
        box = [b for b in app.query(MessageBox) if b.role == "assistant"][-1]
        first, nearest = box.query(CitationList)
        assert isinstance(first.get_option_at_index(0).prompt, Text)
        assert "[1] [b]terms.pdf, p.2 — “See [/terms] here.”" in str(first.get_option_at_index(0).prompt)
        assert "[i]b.md" in str(nearest.get_option_at_index(0).prompt)
        assert "It means [/x] always" in rendered(box.query_one(".unsupported"))
