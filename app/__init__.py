"""Credit Lab's web app and command line: serves the lab and streams runs to browsers."""
