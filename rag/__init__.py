"""policy-qa: question answering over Chinese policy documents, with exact item citations."""

import os


def _busy_machine() -> bool:
    try:
        return os.getloadavg()[0] > 0.75 * (os.cpu_count() or 1)
    except OSError:
        return False


# OpenMP threads (the embedder's) spin while they wait for each other. On an idle 2-core machine
# that is fastest (a query embeds in 10.5 ms; 22.6 ms when they sleep at once), but when other
# work holds the cores, threads that spin without end starve each other: 1.6 s per query was
# measured. So they spin briefly and then sleep (10.7 ms idle; 86 ms beside a busy process), and
# a process that starts on an already busy machine makes them sleep at once (21 ms there).
# libgomp reads these when it loads, before any engine does; explicit settings always win.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    if _busy_machine():
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        os.environ["GOMP_SPINCOUNT"] = "10000"
