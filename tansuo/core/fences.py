"""Text from outside (documents, tool results, plugin errors) that tries to leave its place in the
prompt: chat-template tokens (`<|im_start|>`, `[INST]`), tags like the prompt's own fences
(`</sources>`, `<system>`), pseudo-turns ("Assistant: …", `{"role": "system"}`, "END OF DOCUMENTS"),
and citation markers like the assistant's own ("[2]", "[source 1]"), which would let a passage
pass its claim off as another source's. None of these is ordinary content of a passage, so they
are handled by form, before the injection scorer reads the sentences' meaning: a pseudo-turn's
sentence, what a turn-opening token introduces and a claim headed by a citation marker are removed;
other tokens, tags and markers are cut out of the sentence that holds them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tansuo.core.sources import sentences

# chat-template control tokens of the common templates (ChatML, Llama 2/3, Mistral, Gemma, DeepSeek,
# gpt-oss) and tags shaped like the prompt's fences and roles; those that open a turn make what
# follows them speak as one
_TOKENS = re.compile(r"<\|[A-Za-z0-9_ -]{1,40}\|>|\[/?INST\]|<<\s*/?\s*SYS\s*>>|</?s>|<(?:start|end)_of_turn>"
                     r"|\[/?(?:SYSTEM_PROMPT|TOOL_RESULTS|TOOL_CALLS|AVAILABLE_TOOLS)\]"
                     r"|</?\s*(?:sources?|system|instructions?|context|documents?|tool_result|plugin_error|"
                     r"assistant)\b[^<>]*>", re.IGNORECASE)
_OPENS = re.compile(r"<\|(?:im_start|start_header_id|start|User|Assistant|system)\|>|\[INST\]|<<\s*SYS\s*>>"
                    r"|<start_of_turn>|\[(?:SYSTEM_PROMPT|TOOL_RESULTS)\]|<\s*(?:system|instructions?|tool_result|assistant)\b",
                    re.IGNORECASE)
# look-alikes folded before matching: fullwidth brackets and bars, escaped angle brackets, and
# characters that do not show (zero-width), which would hide a token from the patterns
_FOLD = str.maketrans({"\uff1c": "<", "\uff1e": ">", "\uff5c": "|", "\u2039": "<", "\u203a": ">", "\uff3b": "[",
                       "\uff3d": "]", "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None})
_ESCAPED = re.compile(r"&(lt|gt|#60|#62|#x3c|#x3e);", re.IGNORECASE)
# the role a turn-opening token names ("<|im_start|>system"), when not followed by a colon
_ROLE_WORD = re.compile(r"[ \t]*(?:(?:system|assistant|user|human|model|developer)\b(?!\s*:))?\s*", re.IGNORECASE)
# code fences and rules start a piece of their own, and so does a bracket or a brace after a sentence's end
# (marked, so a marker heading it is told from a footnote that starts a line)
_BREAKS = re.compile(r"[ \t]*(`{3,}|-{3,}|={3,}|\*{3,}|#{3,})[ \t]*")
_MID = re.compile(r"(?<=[.!?:])[ \t]+(?=[\[{])")
# "[3]", "[source 2]" not right after a name or a closing bracket (x[0] in code is kept)
_MARKERS = re.compile(r"(?<![\w\])=(,\[+*/-])(?<![=(,\[+*/-] )\[(?:source\s*)?\d{1,3}\]", re.IGNORECASE)
# a marker with a label, heading a sentence in mid-paragraph or inside the label ("half. [2] Road
# authority: ...", "Verified by [1]: ..."): a claim dressed as another, checked source. One that starts a line is a
# footnote, and one inside or at the end of a sentence ("as shown in [12], ...") a reference of the
# document's own: they only lose the marker.
_FORGED = re.compile(r"^\x02\W{0,3}\[(?:source\s*)?\d{1,3}\]\s*[^.!?:\n]{1,40}:"
                     r"|^[^.!?\n]{0,40}\[(?:source\s*)?\d{1,3}\]\s*(?:\([^)]{0,20}\)\s*)?:", re.IGNORECASE)
_OPEN, _CLOSE = "\x00", "\x01"  # where a turn-opening token, or any other, stood

# a sentence that speaks as a turn of the conversation or says the sources ended (at its start), or a
# JSON message with a role anywhere
_TURN = re.compile(
    r"^\W{0,8}(?:(?:system|assistant|ai|human|user|bot|model|developer)(?:\s+(?:message|response|prompt|reply))?:"
    r"|#+\s*(?:system|assistant|instructions?)\b|\[(?:system|assistant|instructions?)\]"
    r"|new\s+(?:system\s+prompt|instructions?|rules?)\s*:|(?:priority\s+)?override\s*:"
    r"|(?:end|close)[\s_]+(?:of[\s_]+)?(?:the[\s_]+)?(?:documents?|context|sources?|search[\s_]+results"
    r"|retrieved[\s_]+(?:passages|text|documents))\b|(?:sources?|documents?|context)\s+end\b)"
    r"|\"role\"\s*:\s*\"(?:system|assistant|user|tool|developer)\""
    r"|(?-i:\b(?:END|CLOSE)[\s_]+(?:OF[\s_]+)?(?:THE[\s_]+)?(?:DOCUMENTS?|CONTEXT|SOURCES?|SEARCH[\s_]+RESULTS)\b)",
    re.IGNORECASE)


@dataclass
class Fenced:
    text: str
    removed: list[str] = field(default_factory=list)  # pseudo-turns and forged citations, taken out
    neutralised: list[str] = field(default_factory=list)  # sentences that lost a token, tag or marker


def defuse(text: str) -> Fenced:
    """`text` with pseudo-turns (and what a turn-opening token introduces) removed, and tokens, fence
    tags and citation markers cut out; the sentences touched are listed. Lines stay lines."""
    folded = _ESCAPED.sub(lambda m: "<" if m.group(1).lower() in ("lt", "#60", "#x3c") else ">", text.translate(_FOLD))
    if not (_TOKENS.search(folded) or _MARKERS.search(folded) or _BREAKS.search(folded) or _MID.search(folded)
            or any(_TURN.search(piece) for line in folded.splitlines() for piece in sentences(line))):
        return Fenced(text)
    out = Fenced(text)
    marked = _TOKENS.sub(lambda m: "\n" + (_OPEN if _OPENS.match(m.group()) else _CLOSE), folded)
    # what follows a token up to the next words belongs to it: whitespace, line ends, the role it names
    marked = re.sub("([" + _OPEN + _CLOSE + "])" + _ROLE_WORD.pattern, r"\1", marked, flags=re.IGNORECASE)
    marked = _MID.sub("\n\x02", "\n".join(_break_inline(line) for line in marked.split("\n")))
    lines = []
    for line in marked.splitlines():
        kept = _defuse_line(line, out)
        if kept is not None:
            lines.append(kept)
    out.text = _rejoin(lines, folded)
    return out


def _break_inline(line: str) -> str:
    """A fence or rule inside a line of text ("... ``` end sources ```") on a line of its own."""
    if not _BREAKS.search(line) or _BREAKS.fullmatch(line):
        return line
    return "\n".join(part.strip() for part in _BREAKS.sub(r"\n\1\n", line).split("\n") if part.strip())


def _defuse_line(line: str, out: Fenced) -> str | None:
    """One line's kept sentences (None when nothing is left); what went is noted in `out`."""
    bare = line.lstrip(_OPEN + _CLOSE)
    opened = _OPEN in line[:len(line) - len(bare)]
    mid = bare.startswith("\x02")
    if _BREAKS.fullmatch(bare) or not bare.strip():  # a fence, a rule or an empty line: kept as it was
        return bare
    before = len(out.removed) + len(out.neutralised)
    kept = []
    for i, piece in enumerate(sentences(bare.replace(_OPEN, " ").replace(_CLOSE, " ").lstrip("\x02"))):
        cut = _MARKERS.sub("", piece)
        cut = re.sub(r" {2,}", " ", re.sub(r"\s+([:,.;])", r"\1", cut)).strip() if cut != piece else piece.strip()
        if not re.search(r"\w", cut):  # a marker alone: nothing to keep or report
            continue
        if _TURN.search(piece) or _FORGED.search(("\x02" if mid and i == 0 else "") + piece) or (opened and i == 0):
            out.removed.append(piece.strip())
            continue
        if cut != piece.strip():
            out.neutralised.append(piece.strip())
        kept.append(cut)
    if len(out.removed) + len(out.neutralised) == before and not line.startswith((_OPEN, _CLOSE, "\x02")):
        return line  # untouched: as it was, spacing and indentation included
    indent = bare[:len(bare) - len(bare.lstrip(" \t"))]
    return indent + " ".join(kept) if kept else None


def _rejoin(lines: list[str], original: str) -> str:
    """The kept lines: one paragraph where the text was one (a break made here joins back up)."""
    if "\n" not in original.strip():
        return " ".join(line.strip() for line in lines if line.strip() and not _BREAKS.fullmatch(line.strip()))
    return "\n".join(lines)


@dataclass(frozen=True)
class Cleaned:
    text: str
    removed: list[str]  # sentences taken out: instructions, pseudo-turns, forged citations
    neutralised: list[str]  # sentences kept without a chat token, fence tag or citation marker


def fenced_only(text: str) -> Cleaned:
    """`text` handled by form alone (the fences above): what runs when the harmlessness check is off,
    since it needs no model and no exemplars."""
    fenced = defuse(text)
    return Cleaned(fenced.text, fenced.removed, fenced.neutralised)
