"""params.yaml parsed once into typed, frozen configs (the field mechanism, dataset specs, every section),
and the process environment derived from them.
"""
