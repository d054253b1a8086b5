.PHONY: run test setup

# Set up everything on a fresh Debian/Ubuntu machine and serve the portal.
run:
	scripts/run

# Set up everything and run every test lane (fast, real, jobs, browser).
test:
	scripts/test $(PYTEST_ARGS)

setup:
	scripts/setup test
