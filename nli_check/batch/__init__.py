"""Batch scoring of article corpora (``nli-check batch``): streaming, resumable, fast.

The corpus is read as a stream, one article a row (JSON Lines, or Parquet read one row
group at a time), and checked in *chunks* of ``chunk_size`` input positions. A chunk is
the unit of work of both engines (``nli_check.batch.local`` and ``nli_check.batch.ray_engine``):

* its claims are embedded in one call; a source that several of its articles cite is
  embedded whole, on its own, once per run, and another only in the part that its
  article's first stage kept (``nli_check.pipeline.first_stage``), on its own too;
* the NLI pairs of all its articles are scored in one length-sorted pass, each distinct
  (evidence, claim) pair once; then the ablations that mark unsupported words, again in
  one pass. The local engine keeps every score in a :class:`ScoreStore` on disk, so a
  pair met again in a later chunk is not scored again either;
* the verdicts come from ``Checker.check_steps``, the very code behind ``Checker.check``.

Chunks start at fixed positions (line ``k * chunk_size + 1``), and what a chunk computes
depends on the chunk and on the scores stored before it, never on what sat in a batch
beside it in another run. That is what makes a resumed run's rows identical to an
uninterrupted run's: ``--resume`` restarts at the start of the chunk that was cut,
recomputes it (finding in the store the scores the interrupted run had stored), and
appends only the rows not yet written.

Every finished row is appended to the output in input order and flushed and fsynced
before the next is written (the errors file likewise, interleaved in input order), so
after a crash the files hold a prefix of the run, plus at most one torn line, which
resume cuts off. The manifest next to the output says ``running`` (with the settings a
resume must repeat) until the run completes, then ``complete`` with the counts.
"""
