"""Web chat: a small page for people plus the JSON API behind it (and behind load tests)."""
