"""gunicorn settings read from the working directory (`gunicorn wsgi:app` picks it up).

Workers, bind address and timeouts stay on the command line (see README); this file makes
sure the access log never holds the personal data that searches carry in query strings
(crm.ops.logs).
"""

def post_worker_init(worker):
    from crm.ops.logs import install

    install()
