"""Fake platform servers on 127.0.0.1 that check requests the way each platform does."""
