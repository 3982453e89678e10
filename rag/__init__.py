"""policy-qa: question answering over Chinese policy documents, with exact item citations."""

import os

# OpenMP threads (the embedder's, FAISS's) must sleep, not spin, while they wait for each other:
# with spinning, one busy core on a 2-core machine makes a 20 ms query embedding take 1.6 s.
# libgomp reads this when it is loaded, so it is set before any engine is.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
