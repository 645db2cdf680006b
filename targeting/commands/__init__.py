"""Sub-commands of ``python -m targeting``; each module has ``register(subparsers)``."""
