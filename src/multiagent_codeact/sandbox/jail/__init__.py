"""Code that runs inside the jail.

Everything in this package is stdlib-only and imports nothing from the rest of the library: it is
bound read-only into the bubblewrap sandbox and started there with `python -I -S`.
"""
