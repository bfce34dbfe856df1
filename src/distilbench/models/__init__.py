"""The model zoo: packaged checkpoints, students built from a teacher, the CNN, classification heads, and the
compressed deployment variants and their files.
"""
