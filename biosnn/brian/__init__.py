"""The Brian2 reference backend.

Importing it imports Brian2 on biosnn's behalf, and undoes two side effects
Brian2's import has on the user's process: it replaces ``sys.excepthook`` (so
any uncaught exception, the user's own included, would print Brian2's
"unexpected error, please report" banner), and it creates a debug log and a
copy of the running script in the temporary directory (kept there after an
uncaught exception). biosnn restores the previous hook and removes both files;
a user who imported Brian2 first keeps Brian2's behaviour.

Brian2's import also installs a Ctrl-C handler that ends a running simulation
early as if it had finished (and that crashes with a ``TypeError`` when Ctrl-C
was ignored before the import, as in a background job). biosnn puts the
previous handler back: Ctrl-C raises ``KeyboardInterrupt`` (or stays ignored),
and the runner checks every run simulated all its steps
(:func:`biosnn.brian.network.check_complete`). Python allows handlers only in
the main thread: imported first in a worker thread (a dask worker's task), the
handler is skipped; interrupting is the cluster's business.
"""

import contextlib
import os
import signal
import sys
import threading


@contextlib.contextmanager
def _signals_only_in_the_main_thread():
    if threading.current_thread() is threading.main_thread():
        yield
        return
    install = signal.signal
    signal.signal = lambda signum, handler: signal.getsignal(signum)
    try:
        yield
    finally:
        signal.signal = install


def _load_brian2():
    if "brian2" in sys.modules:
        import brian2

        return brian2
    previous_hook = sys.excepthook
    main_thread = threading.current_thread() is threading.main_thread()
    previous_sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    with _signals_only_in_the_main_thread():
        import brian2
    from brian2.utils.logger import BrianLogger

    sys.excepthook = previous_hook
    if main_thread and previous_sigint is not None:
        signal.signal(signal.SIGINT, previous_sigint)
    brian2.prefs.logging.file_log = False
    brian2.prefs.logging.save_script = False
    if BrianLogger.file_handler is not None:
        BrianLogger.file_handler.close()
        brian2.utils.logger.logging.getLogger("brian2").removeHandler(BrianLogger.file_handler)
        BrianLogger.file_handler = None
    for attribute in ("tmp_log", "tmp_script"):
        path = getattr(BrianLogger, attribute)
        if path and os.path.exists(path):
            os.remove(path)
        setattr(BrianLogger, attribute, None)
    return brian2


_load_brian2()
