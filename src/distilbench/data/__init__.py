"""The data layer: dataset specs, sources, validation, folds and the prepared-dataset format."""
