"""The bundled sample site and the demo that runs the whole pipeline on it."""
