"""The web dashboard at ``/ui/``: server-rendered pages over the registry services.

Pages call the very services the admin API calls, with the signed-in principal,
so the role rules and errors are the domain's, not a copy. Build it with
:func:`turnout.web.app.build_web_app` (``turnout.wiring`` does, for ``turnout serve``).
"""
