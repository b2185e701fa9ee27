"""The files Docker sends as the build context, exactly as BuildKit chooses them.

The content tag is a hash of what the builder receives, so the choice must be Docker's own, not an
approximation: a file the hash skips but Docker sends could change the image under an old tag, and a
file the hash covers but Docker skips would rebuild for nothing. This module reproduces, in Python:

- the ignore file: `<Dockerfile>.dockerignore` beside the Dockerfile if it exists, else
  `.dockerignore` at the context root (https://docs.docker.com/build/concepts/context/#dockerignore-files);
- reading it as moby/patternmatcher's `ignorefile.ReadAll` does: a UTF-8 BOM dropped, a line whose
  first character is `#` is a comment (an indented `#` is a pattern), whitespace trimmed, `!` marks
  an exception, each pattern cleaned like Go's `filepath.Clean` and a leading `/` dropped;
- matching as `patternmatcher.Pattern.match` does (https://github.com/moby/patternmatcher): `*` and
  `?` never cross `/`, `**` crosses any number of directories, `\\` escapes, `[...]` classes, and the
  last matching pattern wins, a pattern matching a parent directory matching its contents;
- walking as tonistiigi/fsutil's filter does (BuildKit, the default builder since Docker Engine
  23.0): an excluded directory is entered only if an exception could re-include something in it,
  and the directories above a re-included entry are sent with it.

Patterns Docker itself refuses (`!` alone, an unclosed `[`, a trailing `\\`) are refused here too.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"
# Go's `strings.TrimSpace`: Unicode White_Space (Python's `str.strip()` also strips \x1c-\x1f).
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# patternmatcher's `shouldEscape`: regexp metacharacters that mean nothing in a path pattern.
ESCAPED = frozenset(".+()|{}$")
# fsutil's `patternChars`: an exception holding one of these may match inside any directory.
PATTERN_CHARS = frozenset("*[]?^\\")
POSIX_CLASS = re.compile(r"\[:[a-z]+:\]")


class IgnoreFileError(ValueError):
    """A pattern Docker refuses, named by its file and line."""


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned, without the `!`
    exclusion: bool  # a `!` exception: re-include what matches
    regex: (
        re.Pattern[str] | None
    )  # None: an exact, prefix or suffix match (patternmatcher's fast paths)
    kind: str  # "exact", "prefix", "suffix" or "regexp"

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.fullmatch(path) is not None


@dataclass(frozen=True)
class Entry:
    """One entry Docker sends: its context-relative `/` path, kind and absolute location."""

    path: str
    kind: str  # "file", "dir", "symlink" or "other"
    location: Path


def ignore_file(context: Path, dockerfile: Path) -> Path | None:
    """The ignore file that applies: the Dockerfile's own one first, as BuildKit reads them."""
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if own.is_file():
        return own
    shared = context / ".dockerignore"
    return shared if shared.is_file() else None


def read_patterns(text: str, source: str = ".dockerignore") -> list[Pattern]:
    """`ignorefile.ReadAll` then `patternmatcher.New`: the patterns in file order."""
    patterns: list[Pattern] = []
    # bufio.ScanLines: lines end at "\n" and lose one "\r" before it; nothing else ends a line.
    lines = (line.removesuffix("\r") for line in text.removeprefix(BOM).split("\n"))
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            continue
        pattern = line.strip(GO_SPACE)
        if not pattern:
            continue
        exclusion = pattern.startswith("!")
        if exclusion:
            pattern = pattern[1:].strip(GO_SPACE)
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        if exclusion and not pattern:
            raise IgnoreFileError(f"{source} line {number}: '!' alone is refused by Docker")
        try:
            patterns.append(compile_pattern(pattern, exclusion))
        except ValueError as exc:
            raise IgnoreFileError(
                f"{source} line {number}: {line.strip(GO_SPACE)!r} is refused by Docker ({exc})"
            ) from None
    return patterns


def go_clean(path: str) -> str:
    """Go's `filepath.Clean` on `/` paths (`posixpath.normpath` keeps a leading `//`; Go does not)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def compile_pattern(text: str, exclusion: bool) -> Pattern:
    """`Pattern.compile`: the same regular expression and the same fast paths, in Python's syntax."""
    check_go_syntax(text)
    body, kind, i = "", "exact", 0
    while i < len(text):
        ch = text[i]
        if ch == "*" and text[i + 1 : i + 2] == "*":
            i += 2
            if text[i : i + 1] == "/":
                i += 1
            if i == len(text):
                body, kind = (body, "prefix") if kind == "exact" else (body + ".*", "regexp")
            else:
                body, kind = body + "(.*/)?", "regexp"
            if i <= 3 and text.startswith("**"):  # the first token: patternmatcher's `i == 0`
                kind = "suffix"
            continue
        if ch == "*":
            body, kind = body + "[^/]*", "regexp"
        elif ch == "?":
            body, kind = body + "[^/]", "regexp"
        elif ch in ESCAPED:
            body += "\\" + ch
        elif ch == "\\":  # never trailing: check_go_syntax refused that
            i += 1
            body, kind = body + "\\" + text[i], "regexp"
        elif ch in "[]":
            body, kind = body + ch, "regexp"
        else:  # as Go's regexp reads it: a `^` here is an anchor there too
            body += ch
        i += 1
    if kind != "regexp":
        return Pattern(text, exclusion, None, kind)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # `[[` is a plain `[` in Go's syntax too
            regex = re.compile(body, re.ASCII)
    except re.error as exc:
        raise ValueError(f"not a valid pattern: {exc.msg}") from None
    return Pattern(text, exclusion, regex, "regexp")


def check_go_syntax(text: str) -> None:
    """What Go's `filepath.Match` refuses (patternmatcher.New calls it): a trailing `\\`, an
    unclosed or empty class, a class range bound that is `-` or `]`. POSIX classes (`[:alpha:]`)
    mean something to Go's regexp and nothing to Python's, so they are refused as unportable."""
    if POSIX_CLASS.search(text):
        raise ValueError("POSIX character classes such as [:alpha:] are not supported")
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise ValueError("a trailing backslash escapes nothing")
            i += 2
            continue
        if ch == "[":
            i = _class_end(text, i + 1)
            continue
        i += 1


def _class_end(text: str, i: int) -> int:
    """The index after the `]` closing a class whose body starts at `i` (Go's `matchChunk`)."""
    if text[i : i + 1] == "^":
        i += 1
    ranges = 0
    while True:
        if text[i : i + 1] == "]" and ranges > 0:
            return i + 1
        i = _class_char(text, i)
        if text[i : i + 1] == "-":
            i = _class_char(text, i + 1)
        ranges += 1


def _class_char(text: str, i: int) -> int:
    """Go's `getEsc`: one class character, escaped or not; the class must go on after it."""
    if i >= len(text) or text[i] in "-]":
        raise ValueError("a character class is empty, unclosed or has a '-' or ']' out of place")
    if text[i] == "\\":
        i += 1
        if i >= len(text):
            raise ValueError("a trailing backslash escapes nothing")
    if i + 1 >= len(text):
        raise ValueError("a character class is not closed")
    return i + 1


def matches(
    patterns: list[Pattern], path: str, parent: list[bool] | None
) -> tuple[bool, list[bool]]:
    """`MatchesUsingParentResults`: excluded or not, and what each pattern matched (for children).

    A pattern that matched the parent directory counts as matched here without being tried: the
    walk hands each directory's results to its entries, as fsutil does.
    """
    matched = False
    results = [False] * len(patterns)
    for i, pattern in enumerate(patterns):
        hit = parent[i] if parent else False
        if not hit:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
        results[i] = hit
        if hit:
            matched = not pattern.exclusion
    return matched, results


def sent_entries(context: Path, patterns: list[Pattern]) -> list[Entry]:
    """Every entry Docker sends, in walk order (the hash sorts them anyway)."""
    only_prefix = not any(
        p.exclusion and PATTERN_CHARS & set(_without_trailing_glob(p.text)) for p in patterns
    )
    sent: list[Entry] = []
    _walk(context, "", patterns, None, only_prefix, sent, [])
    return sent


def _without_trailing_glob(text: str) -> str:
    return text.removesuffix("/**").removesuffix("/*")


def _walk(
    directory: Path,
    prefix: str,
    patterns: list[Pattern],
    parent: list[bool] | None,
    only_prefix: bool,
    sent: list[Entry],
    pending: list[Entry],
) -> None:
    """fsutil's filtered walk. `pending` holds the excluded directories being walked through:
    they are sent, before it, only when something below them is."""
    with os.scandir(directory) as listing:
        children = sorted(listing, key=lambda e: e.name)
    for child in children:
        path = prefix + child.name
        excluded, results = matches(patterns, path, parent)
        mode = child.stat(follow_symlinks=False).st_mode
        entry = Entry(path, _kind(mode), Path(child.path))
        if not excluded:
            sent.extend(pending)
            pending.clear()
            sent.append(entry)
        if entry.kind != "dir":
            continue
        if not excluded:
            _walk(entry.location, path + "/", patterns, results, only_prefix, sent, pending)
        elif _may_reinclude(patterns, path, only_prefix):
            pending.append(entry)
            _walk(entry.location, path + "/", patterns, results, only_prefix, sent, pending)
            if pending and pending[-1] is entry:
                pending.pop()


def _may_reinclude(patterns: list[Pattern], path: str, only_prefix: bool) -> bool:
    """Whether fsutil walks into an excluded directory: always when an exception has wildcards,
    else only when an exception names something under it."""
    if not any(p.exclusion for p in patterns):
        return False
    if not only_prefix:
        return True
    return any(
        p.exclusion and (_without_trailing_glob(p.text) + "/").startswith(path + "/")
        for p in patterns
    )


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"
