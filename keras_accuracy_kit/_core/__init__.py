"""Leaf helpers shared by every part of the kit: argument checks and atomic file writes.

Nothing here imports another kit package; everything else may import from here.
"""
