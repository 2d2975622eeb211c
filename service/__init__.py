"""commentmod: the moderation service (web API, use cases, storage, queue producer)."""
