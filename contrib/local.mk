# contrib: setup and demo scripts.
EXTRA_DIST += contrib/install-deps.sh contrib/demo.sh
