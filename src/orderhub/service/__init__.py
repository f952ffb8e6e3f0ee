"""The daemon: configuration, HTTP app, supervisor."""
