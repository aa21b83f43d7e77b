# Debian's Chromium, driven by Playwright in the browser tests (tests/web):
# never a browser downloaded by `playwright install`.
need 'test -x /usr/bin/chromium' chromium
