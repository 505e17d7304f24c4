"""Done once by the fork server of a run whose pages may change: the tagging lexicon.

Imported only by the server (`PRELOAD_TAGGING` in pipeline/warmup.py), for a run over
a database that holds versions: the lexicon of data/taxonomy.toml, the taxonomy every
run tags with, takes 160 ms to build, which each worker tagging a change would
otherwise spend. A first run tags nothing (its pages are the baseline) and skips it.
"""

from __future__ import annotations

from pipeline.heap import freeze
from pipeline.tag import lexicon_of
from pipeline.taxonomy import load_taxonomy

lexicon_of(load_taxonomy())

freeze()  # the lexicon too
