"""Claim-level training pairs, made by rule from the sets that mark their evidence.

This is the document-to-claim idea behind MiniCheck's data, done with gold annotations
instead of generation. Each set is read into records (a claim, its gold verdict, the
sentences of the document it was checked against, and which of those hold the evidence);
rules then turn the records into (claim, chunk) pairs:

* ``gold``: the claim against a chunk around its evidence -> its gold verdict;
* ``evidence_removed``: the same chunk without the evidence sentences -> unsupported;
* ``no_evidence_chunk``: a chunk of the same document that holds no evidence -> unsupported;
* ``join_supported``, ``join_unsupported``, ``join_contradicted``: two claims joined
  ("A, and b") against a window of each one's source, side by side: supported only if both
  parts are; an unsupported part makes the whole unsupported, a contradicted one contradicted;
* ``embellish``: the embellishment generator of :mod:`nli_check.datasets.augment` on the
  supported claims of news-like sets -> unsupported, the inserted words as gold spans;
* ``swap_number``, ``swap_date``, ``swap_entity``, ``swap_negation``, ``swap_quantity``: one
  changed word or phrase in a supported claim -> contradicted, the changed words as spans.

Chunks have the shape the checker infers on: adjacent sentences around the evidence, packed
up to ``chunk_words`` words. Only train splits are read, or sets the project trains on whole;
every claim of a dev or test portion is held out, and so is every document that shares a
sentence with one of their documents. A row that cannot be read stops the build with an
InputError naming the file and row, so no training run goes on with a silently shrunken set.

The package splits that work by what each part does: :mod:`.records` (the record and pair
types, shared text helpers), :mod:`.readers` (one module per set), :mod:`.holdout`,
:mod:`.chunks`, :mod:`.rules` (one module per rule family), :mod:`.build` (the build, counts,
JSON Lines) and :mod:`.documents` (claims with their whole documents). The names below are
re-exported so that ``from nli_check.datasets.claim_pairs import X`` reads as it did when the
package was one module; the underscored ones are for the tests, not for callers. They are
bindings, not the modules' own globals: a test that changes a constant (``JOIN_SHARE``) patches
it in the module that reads it (:mod:`.rules.join`).
"""

from __future__ import annotations

# The names with a leading underscore are the internals that tests/test_claim_pairs.py reaches
# through this package's name (hence the noqa).
from nli_check.datasets.claim_pairs.build import _deduplicate, build_claim_pairs, counts, write_jsonl  # noqa: F401
from nli_check.datasets.claim_pairs.chunks import _pack, _words  # noqa: F401
from nli_check.datasets.claim_pairs.documents import ClaimDocument, claim_documents
from nli_check.datasets.claim_pairs.holdout import BOILERPLATE_DOCS, HELD_OUT_FILES
from nli_check.datasets.claim_pairs.readers import SETS
from nli_check.datasets.claim_pairs.records import RESTATES, ClaimPair, Span, _norm, _Record  # noqa: F401
from nli_check.datasets.claim_pairs.rules.embellish import NEWS_LIKE, _embellish_rule  # noqa: F401
from nli_check.datasets.claim_pairs.rules.gold import _gold_rule  # noqa: F401
from nli_check.datasets.claim_pairs.rules.join import JOIN_SHARE, MAX_JOINED_WORDS, _conjoin, _join_rule  # noqa: F401
from nli_check.datasets.claim_pairs.rules.swap import MONTHS, SWAPS, _swap_entity, _swap_number, _swap_rule, _tokens  # noqa: F401

__all__ = ["BOILERPLATE_DOCS", "HELD_OUT_FILES", "JOIN_SHARE", "MAX_JOINED_WORDS", "MONTHS", "NEWS_LIKE", "RESTATES",
           "SETS", "SWAPS", "ClaimDocument", "ClaimPair", "Span", "build_claim_pairs", "claim_documents", "counts",
           "write_jsonl"]
