# tests/vm: the tests that need a real cgroup v2 hierarchy with its
# controllers, which the build hosts lack. One boot of a small QEMU VM
# (software emulation, a Debian kernel fetched once into a cache, a
# busybox initramfs) runs them all; see tests/vm/cgroup-v2.sh.
# Included from tests/local.mk.

TESTS += tests/vm/cgroup-v2.sh
EXTRA_DIST += \
	tests/vm/cgroup-v2.sh \
	tests/vm/build-vm.sh \
	tests/vm/run-in-vm.sh \
	tests/vm/init \
	tests/vm/selfcheck.sh \
	tests/vm/local.mk
