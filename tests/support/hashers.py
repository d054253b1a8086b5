"""A password hasher for the tests: Django's own PBKDF2 with few iterations.

Every test that makes a user hashes a password, and the real iteration count
costs about 0.3 s each time. The hash keeps the algorithm's name and its
iteration count, so the portal processes the tests start (daphne, the worker),
which run the production hashers, still verify these passwords at login."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000
