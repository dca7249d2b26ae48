"""What the answer path says to the user, in the question's language: headers, notices, refusals."""

from __future__ import annotations

from engine.documents.ingest.text import language

# Characters written only in Traditional Chinese, common enough that a question in Traditional
# Chinese almost always holds one (門 not 门, 時 not 时 ...).
_TRADITIONAL = frozenset("們個為這來時會說對開關門間問題點體學當還進發應樣麼買賣業務東車馬號電話"
                         "員書長後過與處國內費價錢觀擇寫聽讀認講還給種類網絡項產實際際準備營檯購贈")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "extract_header": "From your documents, in their own words:",
        "quote_header": "From your documents:",
        "refusal": "Your documents do not answer this question.",
        "empty_library": ("There are no documents in this workspace yet: add some (`quarry ingest PATH`, "
                          "or f2 in the app)."),
        "unsupported": "⚠ {n} sentence(s) not supported by the sources: ",
        "unsupported_item": "unsupported: ",
        "nearest": "Nearest passages:",
        "page": "page {page}",
        "extractive_note": "quoted (the documents' own sentences)",
        "per_document_header": "Your documents answer this differently ({n} documents):",
        "per_document_note": "one answer per document: they differ",
        "replaced_model": "quoted, not written: a small model would blend them",
    },
    "zh": {
        "extract_header": "以下是文档中的原文：",
        "quote_header": "文档原文：",
        "refusal": "您的文档中没有能回答这个问题的内容。",
        "empty_library": "这个工作区还没有文档：请先添加（`quarry ingest PATH`，或在应用中按 f2）。",
        "unsupported": "⚠ 有 {n} 句话没有来源支持：",
        "unsupported_item": "没有来源支持：",
        "nearest": "最相近的段落：",
        "page": "第 {page} 页",
        "extractive_note": "原文摘录",
        "per_document_header": "这些文档的回答不同（{n} 份文档）：",
        "per_document_note": "按文档分别作答：各文档说法不同",
        "replaced_model": "引用原文而非模型撰写：小模型会把它们混在一起",
    },
    "zh-Hant": {
        "extract_header": "以下是文件中的原文：",
        "quote_header": "文件原文：",
        "refusal": "您的文件中沒有能回答這個問題的內容。",
        "empty_library": "這個工作區還沒有文件：請先加入（`quarry ingest PATH`，或在應用程式中按 f2）。",
        "unsupported": "⚠ 有 {n} 句話沒有來源支持：",
        "unsupported_item": "沒有來源支持：",
        "nearest": "最相近的段落：",
        "page": "第 {page} 頁",
        "extractive_note": "原文摘錄",
        "per_document_header": "這些文件的回答不同（{n} 份文件）：",
        "per_document_note": "按文件分別作答：各文件說法不同",
        "replaced_model": "引用原文而非模型撰寫：小模型會把它們混在一起",
    },
}


def answer_language(text: str) -> str:
    """Gives the language to answer a question in: 'en', 'zh' (Simplified) or 'zh-Hant' (Traditional)."""
    if language(text) != "zh":
        return "en"
    return "zh-Hant" if any(ch in _TRADITIONAL for ch in text) else "zh"


def phrase(key: str, lang: str = "en", **values) -> str:
    """Gives one phrase in a language (English when the language has none), filled with values."""
    table = PHRASES.get(lang) or PHRASES.get(lang.split("-")[0]) or PHRASES["en"]
    return table.get(key, PHRASES["en"][key]).format(**values)
