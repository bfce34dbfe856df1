"""The ground floor: errors a user can fix, paths, atomic writes, the clock, the compute runtime, console
logs and installed-package files. Imports nothing of the project.
"""
