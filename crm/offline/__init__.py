"""Offline-first logging (issue 16): the service worker, the web app manifest, the field pages
a phone keeps for a dead zone, and the JSON endpoints the on-device send queue posts to.

What a phone may keep is decided here, in one place: `CACHEABLE` names the pages that say
`X-Offline-Cacheable: 1`, and static/sw.js caches nothing else (besides static files).
"""
