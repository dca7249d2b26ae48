"""Answer modes: the catalog's default per chat model and language, a user-added model starting written,
the answer_mode setting (and the older `extractive` key), and each answer recording which mode made it."""

from __future__ import annotations

import struct

import pytest

from engine import settings
from engine.documents import modes
from engine.documents.rag import Ask
from engine.errors import SettingsError
from engine.models import catalog
from engine.runtime.generation import GenerationParams

EMPTY_GGUF = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + b"\0" * 12  # a whole GGUF with no tensors


def test_the_catalog_says_where_each_default_model_quotes():
    smol, gemma = catalog.get("smollm2-135m"), catalog.get("gemma3-270m")
    for entry in (smol, gemma):
        assert entry.quotes_by_default("zh") and entry.quotes_by_default("zh-Hant")  # it does not read Chinese
    # measured by bench/answer_modes.py: quotes beat SmolLM2's and Gemma's written English answers
    assert smol.quotes == gemma.quotes == ("en",) and smol.quotes_by_default("en") and gemma.quotes_by_default("en")
    assert modes.default_mode("smollm2-135m", "en") == modes.QUOTED
    assert modes.default_mode("no-such-model", "en") == modes.WRITTEN  # fails where it loads, not here


def test_a_user_added_model_starts_written_in_the_languages_it_reads(tmp_models_dir, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(EMPTY_GGUF)
    entry = catalog.add(gguf, "tiny", languages="en")
    assert entry.quotes == () and catalog.get("tiny").quotes == ()
    assert modes.default_mode("tiny", "en") == modes.WRITTEN and modes.default_mode("tiny", "zh") == modes.QUOTED
    catalog.add(gguf, "tiny-zh", languages="zh,en")
    assert modes.default_mode("tiny-zh", "zh") == modes.WRITTEN


def test_answers_follow_the_default_and_say_which_mode_made_them(demo_workspace):
    question = "How long do I have to return an unopened item?"
    job = Ask(demo_workspace, question)
    assert job.extracts() == catalog.get("smollm2-135m").quotes_by_default("en")
    quoted = Ask(demo_workspace, question, extractive=True).run(GenerationParams(max_tokens=16, temperature=0))
    assert modes.mode_of(quoted) == modes.QUOTED and quoted.record()["mode"] == "quoted"
    assert modes.made_by(quoted.record()["mode"], "smollm2-135m") == "quoted"
    refused = Ask(demo_workspace, "What is the parental leave policy?", extractive=True).run()
    assert modes.mode_of(refused) == "refused" and modes.made_by("refused", "smollm2-135m") == ""


def test_a_written_answer_says_which_model_wrote_it(demo_workspace, chat_model):
    answer = Ask(demo_workspace, "How long do I have to return an unopened item?", extractive=False).run(
        GenerationParams(max_tokens=24, temperature=0))
    assert not answer.extractive and modes.mode_of(answer) in (modes.WRITTEN, "quoted instead")
    assert answer.record()["mode"] == modes.mode_of(answer)
    if modes.mode_of(answer) == modes.WRITTEN:
        assert modes.made_by(modes.WRITTEN, answer.stats.model) == "written by smollm2-135m"


def test_the_answer_mode_setting_and_the_older_extractive_key(isolated_user_dirs, monkeypatch):
    config = isolated_user_dirs / "config.toml"
    assert settings.load().answer_mode == "auto"
    config.write_text('answer_mode = "written"\n', encoding="utf-8")
    assert settings.load().answer_mode == "written"
    config.write_text("extractive = true\n", encoding="utf-8")
    assert settings.load().answer_mode == "quoted"
    config.write_text("extractive = false\n", encoding="utf-8")
    assert settings.load().answer_mode == "auto"
    config.write_text('answer_mode = "verbatim"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="answer_mode = 'verbatim' is not valid; it must be one of auto, quoted"):
        settings.load()
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("QUARRY_EXTRACTIVE", "true")
    assert settings.load().answer_mode == "quoted"
    monkeypatch.setenv("QUARRY_EXTRACTIVE", "maybe")
    with pytest.raises(SettingsError, match="QUARRY_EXTRACTIVE: extractive = 'maybe' is not valid"):
        settings.load()
    assert [modes.forced(m) for m in modes.MODES] == [None, True, False]


def test_a_chat_keeps_its_mode_and_a_value_no_quarry_wrote_falls_back_to_the_setting(tmp_path):
    from engine.errors import QuarryError
    from engine.workspace import Workspace

    with Workspace(tmp_path / "ws") as ws:
        chat_id = ws.store.create_chat("modes", None, "docs")
        assert modes.for_chat(ws.store, chat_id, None, modes.AUTO) == modes.AUTO  # none kept: the setting
        modes.keep(ws.store, chat_id, modes.WRITTEN)
        assert ws.store.chat(chat_id).answer_mode == modes.WRITTEN
        assert modes.for_chat(ws.store, chat_id, None, modes.AUTO) == modes.WRITTEN
        assert modes.for_chat(ws.store, chat_id, modes.QUOTED, modes.AUTO) == modes.QUOTED  # a flag wins
        with pytest.raises(QuarryError, match="answer mode 'loud': give one of auto, quoted, written"):
            modes.keep(ws.store, chat_id, "loud")
        assert ws.store.chat(chat_id).answer_mode == modes.WRITTEN  # nothing stored half
        with ws.store.writing():  # a value edited by hand, or by a newer Quarry
            ws.store.db.execute("UPDATE chats SET answer_mode = 'bogus' WHERE id = ?", [chat_id])
        assert modes.kept(ws.store.chat(chat_id)) is None
        assert modes.for_chat(ws.store, chat_id, None, modes.QUOTED) == modes.QUOTED
        with pytest.raises(QuarryError, match="answer mode 'loud'"):  # refused before anything else
            modes.keep(ws.store, None, "loud")
        modes.keep(ws.store, chat_id, modes.QUOTED, setting=modes.QUOTED)  # the setting's mode: follow it
        assert ws.store.chat(chat_id).answer_mode is None
        assert modes.for_chat(ws.store, chat_id, None, modes.WRITTEN) == modes.WRITTEN
