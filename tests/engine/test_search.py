import pytest

from engine.documents.search import Filters, fuse, trust_weights
from engine.errors import SearchError


def test_returns_policy_ranks_first(demo_workspace):
    hits = demo_workspace.searcher().search("return window for opened electronics", 5).hits
    assert hits[0].path.endswith("policies/returns-policy.pdf") and hits[0].page == 1


def test_chinese_question_finds_chinese_document(demo_workspace):
    hits = demo_workspace.searcher().search("已拆封的电子产品可以退货吗", 3).hits
    assert hits[0].path.endswith("zh/退货政策.md")


@pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
def test_each_mode_returns_scored_hits(demo_workspace, mode):
    result = demo_workspace.searcher().search("hotel cap per night", 3, mode)
    assert result.hits and all(h.score > 0 for h in result.hits)
    assert result.hits[0].path.endswith("travel-policy.docx")


def test_filters_by_type_and_path(demo_workspace):
    searcher = demo_workspace.searcher()
    hits = searcher.search("warranty", 10, filters=Filters(doctype="pdf")).hits
    assert hits and all(h.doctype == "pdf" for h in hits)
    hits = searcher.search("warranty", 10, filters=Filters(path_glob="products/*")).hits
    assert hits and all("/products/" in h.path for h in hits)
    assert searcher.search("warranty", 5, filters=Filters(doctype="nosuchtype")).hits == []


def test_chinese_query_trusts_keywords_more():
    hits = [(1, 0.5), (2, 0.4), (3, 0.3)]
    zh = trust_weights("电子产品退货", hits, hits)
    en = trust_weights("return policy", hits, hits)
    assert zh["vector"] < en["vector"] / 3


def test_a_retriever_with_no_hits_gets_no_weight():
    assert trust_weights("q", [(1, 0.5)], []) == {"vector": 1.0, "keyword": 0.0}
    assert fuse([(1, 0.5), (2, 0.4)], [], {"vector": 1.0, "keyword": 0.0})[0][0] == 1


def test_empty_query_and_bad_mode_are_clear_errors(demo_workspace):
    with pytest.raises(SearchError, match="empty query"):
        demo_workspace.searcher().search("   ")
    with pytest.raises(SearchError, match="unknown search mode"):
        demo_workspace.searcher().search("x", mode="fuzzy")
