"""Custom actions for the Rasa action server (rasa-sdk): thin, they call backend.BackendClient."""
