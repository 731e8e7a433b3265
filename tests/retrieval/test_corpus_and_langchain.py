"""The default corpus (built once, then loaded) and the LangChain retriever adapter."""

from __future__ import annotations

from pathlib import Path

from langchain_core.retrievers import BaseRetriever

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval import Document, DocumentIndex
from tansuo.retrieval.build import open_index
from tansuo.retrieval.corpus import default_corpus, package_info, stdlib_topics
from tansuo.retrieval.langchain import TansuoRetriever
from tests.conftest import make_settings


class CountingEmbedder(HashingEmbedder):
    embedded = 0

    def embed(self, texts):
        CountingEmbedder.embedded += len(texts)
        return super().embed(texts)


def test_reference_topics_are_dated_by_the_interpreter_build() -> None:
    topics = {d.id: d for d in stdlib_topics()}
    assert "pydoc:for" in topics and "for" in topics["pydoc:for"].text
    assert topics["pydoc:for"].published is not None
    assert topics["pydoc:for"].metadata["package"] == "python"


def test_package_docstrings_carry_package_and_version_without_importing_it() -> None:
    info = package_info("yaml")
    assert info is not None and info.distribution == "PyYAML"
    docs = [d for d in default_corpus(["yaml"]) if d.metadata["package"] == "PyYAML"]
    assert docs and all(d.metadata["version"] == info.version for d in docs)
    load = next(d for d in docs if d.title == "yaml.safe_load")
    assert load.id == "py:yaml.safe_load" and load.text.startswith("yaml.safe_load(stream)")
    assert all(not part.startswith("_") for d in docs for part in d.title.split("."))
    assert package_info("no_such_package_tansuo") is None


def test_default_corpus_is_built_on_first_start_then_loaded(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, corpus_packages=["yaml"])
    stages = []
    first = open_index(settings, embedder=CountingEmbedder(), progress=lambda s, d, t: stages.append(s))
    assert "reading docstrings" in stages and "embedding" in stages
    assert len(first) > 100 and first.search("safe_load YAML stream", k=3)
    built = CountingEmbedder.embedded
    second = open_index(settings, embedder=CountingEmbedder())
    assert len(second) == len(first) and CountingEmbedder.embedded == built  # nothing embedded again
    assert open_index(make_settings(tmp_path / "off", default_corpus=False), embedder=HashingEmbedder()).is_new


def test_langchain_retriever_returns_documents_with_citation_metadata(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path, HashingEmbedder())
    index.add([Document(id="a", title="Tea prices", source="/p/a.md", text="Tea costs 3 dollars at Kee's."),
               Document(id="b", title="Coffee", source="/p/b.md", text="Coffee costs 5 dollars.")])
    retriever = TansuoRetriever(index=index, k=1)
    assert isinstance(retriever, BaseRetriever)
    [doc] = retriever.invoke("how much is tea")
    assert doc.page_content == "Tea costs 3 dollars at Kee's."
    assert doc.metadata["chunk_id"] == "a#0" and doc.metadata["source"] == "/p/a.md"
    assert doc.metadata["title"] == "Tea prices" and doc.id == "a#0"
