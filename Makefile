# Build everything the project ships (servers, component libraries, the
# rump.* tools and their links) and run it or its tests.

CARGO ?= cargo
SOCKET ?= /tmp/rump.sock

.PHONY: all build release run test bench clean

all: build

## Debug build of the whole workspace, with the rump.* tool links.
build:
	$(CARGO) build --workspace
	target/debug/rump --links target/debug
	cp target/debug/librumpfs_tmpfs.so target/debug/tmpfs.kmod

## Release build of the whole workspace, with the rump.* tool links.
release:
	$(CARGO) build --workspace --release
	target/release/rump --links target/release
	cp target/release/librumpfs_tmpfs.so target/release/tmpfs.kmod

## Start rump_allserver (every plugin preloaded) in the foreground on $(SOCKET).
run: release
	target/release/rump_allserver -s -v unix://$(SOCKET)

## Build, then run every test.
test: build
	$(CARGO) test --workspace

## Benchmarks (tables on stdout).
bench:
	$(CARGO) build --workspace --release
	$(CARGO) bench -p rump-tests

clean:
	$(CARGO) clean
