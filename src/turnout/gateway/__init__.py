"""The HTTP side of turnout: one ASGI app (``app.build_app``) serving the admin API,
health checks and, later, the OpenAI-compatible routes, with one error table.

Nothing here builds an app at import time; ``server.serve`` and the tests call the
factory.
"""
