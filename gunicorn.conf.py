"""gunicorn settings read from the working directory (`gunicorn wsgi:app` picks it up).

The bind address, the worker count (`WEB_CONCURRENCY` or `-w`) and timeouts stay on the
command line (see README). This file:

- makes sure the access log never holds the personal data that searches carry in query
  strings (crm.ops.logs);
- gives each worker four threads (gthread). Analytics pages take turns for a slot
  (crm.web.read_slots); a sync worker would sit idle while its page waits for one, and a
  contact POST arriving while every worker holds a waiting page would queue behind them.
  With threads to spare a worker takes that POST at once (measured: with two threads a POST
  often queued inside a worker whose threads both held pages; with four it did not).
  `--threads 1` on the command line goes back to plain sync workers.
- hands the GIL between a worker's threads every 1 ms instead of Python's 5 ms: a contact
  POST waits on the database a dozen times, and each time it came back to a thread busy with
  an analytics page it waited up to the whole interval for the GIL.
"""

import sys

threads = 4
SWITCH_INTERVAL_S = 0.001


def post_worker_init(worker):
    from crm.ops.logs import install

    install()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
