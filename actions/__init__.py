"""Custom actions for the Rasa action server (rasa-sdk): thin, they call backend.BackendClient."""

from bot.text.pii import install_log_masking

# The action server imports this package at start-up: from then on its logs are masked too.
install_log_masking()
