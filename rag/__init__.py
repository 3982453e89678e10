"""policy-qa: question answering over Chinese policy documents, with exact item citations."""

import os


def _busy_machine() -> bool:
    try:
        return os.getloadavg()[0] > 0.75 * (os.cpu_count() or 1)
    except OSError:
        return False


# OpenMP threads (the embedder's) spin while they wait for each other. On an idle 2-core machine
# that is fastest (a query embeds in 10.5 ms; 22.6 ms when they sleep instead), but when other
# work already holds the cores, spinning threads starve each other: 1.6 s per query was measured.
# So a process that starts on a busy machine makes them sleep. libgomp reads this when it loads,
# before any engine does; an explicit OMP_WAIT_POLICY always wins.
if "OMP_WAIT_POLICY" not in os.environ and _busy_machine():
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
