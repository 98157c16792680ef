# Developer shortcuts. The everyday commands are ./run.sh and ./test.sh; these wrap the slower jobs.
.PHONY: help test package package-cuda smoke icons clean-package

help:
	@echo "make test          the default test suite (./test.sh)"
	@echo "make package       build the desktop app (CPU torch) into packaging/dist/, pack the tarball, smoke-test it"
	@echo "make package-cuda  the same with the CUDA torch named by FOLEY_TORCH_SPEC (see packaging/README.md)"
	@echo "make smoke         re-run the smoke test on the last build"
	@echo "make icons         re-render resources/icons/hicolor from resources/icons/foley-studio.svg"
	@echo "make clean-package remove packaging/build and packaging/dist (keeps the build venv)"

test:
	./test.sh

package:
	packaging/build.sh

package-cuda:
	packaging/build.sh --cuda

smoke:
	python3 packaging/smoke_test.py packaging/dist/FoleyStudio/FoleyStudio --json packaging/dist/smoke-report.json

icons:
	.venv/bin/python packaging/make_icons.py

clean-package:
	rm -rf packaging/build packaging/dist
