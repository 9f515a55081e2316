"""Browser tests: the page in Debian's Chromium through Playwright."""
