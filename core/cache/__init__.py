"""Full-page cache for anonymous readers, with exact, tag-based invalidation.

See README.md ("Page cache") for the design.
"""
