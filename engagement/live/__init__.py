"""Live threads: what a commit announces to the readers watching a page, and how it reaches them.

A service announces a notice on its unit of work; after the commit (never before, so a
rolled-back comment never shows) the unit of work hands the notices to a ``Broadcast``: in
one process (``LocalBroadcast``), or through Redis to every web process (``redis.py``). Each
web process holds one ``Hub`` that fans notices out to its own open streams. No web framework
here: the web adapter turns a hub subscription into Server-Sent Events.
"""
