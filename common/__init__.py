"""Rules every side may import: the Rasa components, the action server and the backend.

Dependency-free (standard library only) and Python 3.10-compatible, because the same module
runs inside Rasa's environment and the application's. A rule that two sides need lives here once.
"""
