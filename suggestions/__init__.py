"""suggestions package."""
