"""Chunks are overlapping slices of the text that start and end on sentence or paragraph boundaries."""

from __future__ import annotations

import re

from tansuo.retrieval import ChunkConfig, chunk_text

CONFIG = ChunkConfig(max_chars=300, overlap_chars=80, min_chars=100)


def _sentences(paragraph: int, count: int) -> str:
    return " ".join(f"Paragraph {paragraph} sentence {i} says something short." for i in range(count))


def test_chunks_are_slices_within_the_size_limit_ending_on_sentences() -> None:
    text = "\n\n".join(_sentences(p, 9) for p in range(4))
    chunks = chunk_text("d", text, CONFIG)
    assert len(chunks) > 4
    for chunk in chunks:
        assert chunk.text == text[chunk.start:chunk.end]
        assert len(chunk.text) <= CONFIG.max_chars
        assert chunk.text.startswith("Paragraph") and chunk.text.endswith(".")
    assert [c.n for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_mid_paragraph_breaks_overlap_and_paragraph_breaks_start_clean() -> None:
    text = "\n\n".join(_sentences(p, 9) for p in range(2))
    chunks = chunk_text("d", text, CONFIG)
    for before, after in zip(chunks, chunks[1:]):
        same_paragraph = before.text[:11] == after.text[:11]  # "Paragraph N"
        if same_paragraph:
            assert after.start < before.end  # the next chunk repeats the tail
            assert before.end - after.start <= CONFIG.overlap_chars
        else:
            assert after.start > before.end
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())  # nothing is lost


def test_small_paragraphs_are_packed_together() -> None:
    text = "\n\n".join(f"Short paragraph {i}." for i in range(30))
    chunks = chunk_text("d", text, CONFIG)
    assert len(chunks) < 30
    assert all(re.fullmatch(r"Short paragraph \d+\.", c.text.split("\n\n")[-1]) for c in chunks)


def test_an_overlong_sentence_is_wrapped_at_spaces() -> None:
    text = " ".join(["word"] * 400)
    chunks = chunk_text("d", text, CONFIG)
    assert all(len(c.text) <= CONFIG.max_chars and not c.text.startswith(" ") for c in chunks)
    assert all(c.text.replace("word", "").strip() == "" for c in chunks)


def test_blank_text_has_no_chunks() -> None:
    assert chunk_text("d", "  \n\n \t ") == []
