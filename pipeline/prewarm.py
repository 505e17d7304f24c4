"""Done once by the workers' fork server for all the workers it forks, as it starts.

Imported only by the server (`PRELOAD` in pipeline/warmup.py): each worker then starts
with the scraper families imported, the noise rules compiled and the code's digest
(pipeline/inputkey.py) read, rather than doing each itself.
"""

from __future__ import annotations

from pipeline.analyse import load_analysis
from pipeline.heap import freeze
from pipeline.inputkey import code_digest

load_analysis()
code_digest()

freeze()  # what every worker inherits, left out of its collections (pipeline/heap.py)
