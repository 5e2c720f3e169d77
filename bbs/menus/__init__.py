"""Menu files: their model, start-up validation and the engine that runs the menu stack."""
