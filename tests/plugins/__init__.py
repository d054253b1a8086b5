"""pytest plugins shared by the test lanes (loaded with `pytest_plugins = [...]`)."""
