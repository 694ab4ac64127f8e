"""The rules that turn records into claim pairs, one module per family: :mod:`.gold` (the gold
chunk, the evidence removed, a chunk without evidence), :mod:`.join` (two claims joined),
:mod:`.embellish` (inserted words) and :mod:`.swap` (one changed word or phrase)."""
