"""Which sources each claim cites: the places of an article that cite a source (a link, a
footnote marker), turned into the sources of each claim.

A claim cites the sources whose link or marker stands in its own sentence (or right after
it, in the same paragraph: ``... borders.[1]``); a claim whose sentence cites nothing
takes the sources its paragraph cites; a claim in a paragraph that cites nothing cites
none, and is checked against every source. Parts of the article that only list
references (a footnote list, link definitions) are not claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nli_check.pipeline.segment import Sentence


@dataclass(frozen=True)
class Citation:
    """A place in the article that cites a source."""

    source: int  # index of the source in the list checked against
    start: int  # offsets into the article of the link or marker
    end: int
    paragraph_start: int  # the paragraph it stands in
    paragraph_end: int


@dataclass(frozen=True)
class Citations:
    """An article's citations, and its spans that only list references."""

    citations: tuple[Citation, ...] = ()
    references: tuple[tuple[int, int], ...] = ()

    def is_reference(self, sentence: Sentence) -> bool:
        """Whether ``sentence`` lies in a reference list (it is then no claim)."""
        return any(start <= sentence.start and sentence.end <= end for start, end in self.references)

    def per_claim(self, claims: Sequence[Sentence]) -> list[tuple[int, ...]]:
        """The indices of the sources each claim cites, in order; empty: it cites none."""
        own: list[set[int]] = [set() for _ in claims]
        for citation in self.citations:
            for index in _owners(claims, citation):
                own[index].add(citation.source)
        result = []
        for index, claim in enumerate(claims):
            cited = own[index] or {citation.source for citation in self.citations
                                   if citation.paragraph_start <= claim.start < citation.paragraph_end}
            result.append(tuple(sorted(cited)))
        return result


def _owners(claims: Sequence[Sentence], citation: Citation) -> list[int]:
    """The claims a citation belongs to: those its link overlaps, else the claim it
    follows in its paragraph, else the one it precedes there."""
    overlapping = [i for i, claim in enumerate(claims) if citation.start < claim.end and claim.start < citation.end]
    if overlapping:
        return overlapping
    in_paragraph = [i for i, claim in enumerate(claims)
                    if citation.paragraph_start <= claim.start < citation.paragraph_end]
    before = [i for i in in_paragraph if claims[i].end <= citation.start]
    if before:
        return [before[-1]]
    after = [i for i in in_paragraph if claims[i].start >= citation.end]
    return after[:1]
