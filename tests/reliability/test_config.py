"""The config file: one typed settings object validates it for the CLI and the TUI alike; an error
names the key and the file, and nothing stored changes."""

from __future__ import annotations

import pytest

from engine import settings
from engine.errors import SettingsError
from tests.reliability.util import error_line, quarry

BAD = [
    ('max_tokens = "lots"', "max_tokens"),
    ("max_tokens = 0", "max_tokens"),
    ("temperature = -1", "temperature"),
    ('temperature = "hot"', "temperature"),
    ("top_k_sources = 0", "top_k_sources"),
    ('search_mode = "fuzzy"', "search_mode"),
    ("max_tokens = true", "max_tokens"),
    ("max_file_mb = 0", "max_file_mb"),
    ("max_unpack_ratio = 1", "max_unpack_ratio"),
    ('keys = "ctrl+t"', "keys"),
    ("colour = 3", "colour"),
    ("max_tokens = 384\nmax_tokens = 10", "not valid TOML"),
]


@pytest.mark.parametrize("text,key", BAD, ids=[k for _, k in BAD])
def test_a_bad_config_value_is_one_line_naming_key_and_file(config, text, key):
    config.write_text(text + "\n", encoding="utf-8")
    line = error_line(quarry("chat", "hello"), key, str(config), code=1)
    assert "Traceback" not in line


def test_the_engine_raises_the_same_error_for_the_tui(config):
    config.write_text('max_tokens = "lots"\n')
    with pytest.raises(SettingsError, match=r"config.toml: max_tokens = 'lots' is not valid; it must be an"
                                            r" integer from 1 to 32768"):
        settings.load()


def test_a_key_that_is_not_a_string_says_what_the_table_holds(config):
    config.write_text('[keys]\n"chat.copy" = 5\n')  # it is a table: "it must be a table" read as nonsense
    with pytest.raises(SettingsError, match=r"keys = .* it must be a table of strings \(e.g. \"chat.copy\" = "):
        settings.load()


def test_a_config_that_is_not_utf8_is_one_line(config):
    config.write_bytes(b"theme = \"\xff\xfe\"\n")
    error_line(quarry("ask", "what is the refund window"), str(config), code=1)


def test_an_environment_override_is_checked_too(config, monkeypatch):
    monkeypatch.setenv("QUARRY_MAX_TOKENS", "many")
    error_line(quarry("chat", "hello"), "QUARRY_MAX_TOKENS", "max_tokens", code=1)


def test_good_values_load_with_ints_for_floats(config):
    config.write_text('temperature = 1\nmax_tokens = 64\nsearch_mode = "keyword"\nkeys = {"chat.new" = "ctrl+t"}\n')
    conf = settings.load()
    assert conf.temperature == 1.0 and isinstance(conf.temperature, float)
    assert conf.max_tokens == 64 and conf.search_mode == "keyword" and conf.keys == {"chat.new": "ctrl+t"}
    settings.save(conf)
    assert settings.load() == conf


def test_a_broken_config_stops_ingest_before_anything_is_stored(config, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\nalpha")
    config.write_text("max_file_mb = -5\n")
    error_line(quarry("ingest", folder, "-w", tmp_path / "ws"), "max_file_mb", str(config), code=1)


def test_a_config_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("QUARRY_CONFIG", str(blocker / "config.toml"))
    with pytest.raises(SettingsError, match=r"not-a-folder/config.toml: could not save the settings .*QUARRY_CONFIG"):
        settings.save(settings.Settings())
