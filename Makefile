# Build everything the project ships (servers, component libraries, the
# rump.* tools and their links) and run it or its tests.

CARGO ?= cargo
SOCKET ?= /tmp/rump.sock
# File systems also installed as modules (NAME.kmod), for -m and modload.
FS_MODULES = tmpfs ffs ext2fs msdos cd9660

.PHONY: all build release run test bench clean

all: build

## Debug build of the whole workspace, with the rump.* tool links.
build:
	$(CARGO) build --workspace
	target/debug/rump --links target/debug
	for fs in $(FS_MODULES); do cp target/debug/librumpfs_$$fs.so target/debug/$$fs.kmod; done

## Release build of the whole workspace, with the rump.* tool links.
release:
	$(CARGO) build --workspace --release
	target/release/rump --links target/release
	for fs in $(FS_MODULES); do cp target/release/librumpfs_$$fs.so target/release/$$fs.kmod; done

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
