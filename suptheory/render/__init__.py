"""Interfaces: results rendered for people (:mod:`~suptheory.render.explain`: readings in words)."""
