"""HTTP and websocket routes: thin handlers over the run manager and the engine."""
