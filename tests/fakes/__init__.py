"""Fakes of external platforms for tests: real HTTP servers on 127.0.0.1 that check what they receive
the way the platform does and can fail on demand (tests never reach a real platform)."""
