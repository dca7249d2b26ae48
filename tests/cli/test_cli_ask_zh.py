"""`quarry ask` in Chinese and with --extractive, and `quarry models add --lang`."""

from __future__ import annotations

import json
import struct

from tests.helpers import run_cli

EMPTY_GGUF = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + b"\0" * 12  # a whole GGUF with no tensors


def test_chinese_ask_prints_the_cited_extract(demo_workspace):
    root = str(demo_workspace.root)
    demo_workspace.close()
    result = run_cli("ask", "-w", root, "双十一期间仓库保证多长时间内发货？")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "以下是文档中的原文：" and "四十八小时" in result.stdout
    assert any("[1]" in line and "双十一促销会议纪要.docx" in line for line in lines)
    data = json.loads(run_cli("ask", "--json", "-w", root, "公司食堂几点开饭？").stdout)
    assert data["refused"] and data["lang"] == "zh" and data["answer"] == "您的文档中没有能回答这个问题的内容。"


def test_extractive_flag_quotes_an_english_answer(demo_workspace):
    root = str(demo_workspace.root)
    demo_workspace.close()
    result = run_cli("ask", "--json", "--extractive", "-w", root,
                     "How long do I have to return an unopened item?")
    data = json.loads(result.stdout)
    assert data["extractive"] and "30 days" in data["answer"] and data["completion_tokens"] == 0
    assert data["citations"][0]["file"].endswith("returns-policy.pdf")


def test_models_add_with_languages(tmp_models_dir, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(EMPTY_GGUF)
    result = run_cli("models", "add", str(gguf), "--id", "tiny-zh", "--lang", "zh,en")
    assert result.exit_code == 0 and "reads zh, en" in result.output
    bad = run_cli("models", "add", str(gguf), "--id", "tiny-x", "--lang", "xx")
    assert bad.exit_code == 1 and "unknown language 'xx'" in bad.output
