# tests/integration: the master's behaviour tests (real daemons on
# 127.0.0.1) and cairn-sched, the scriptable scheduler they drive.
# Included from tests/local.mk.

check_PROGRAMS += tests/tools/cairn-sched
tests_tools_cairn_sched_SOURCES = tests/tools/cairn-sched.c
tests_tools_cairn_sched_LDADD = libframework/libcairn.la

MASTER_TESTS = \
	tests/integration/master-fairness.sh \
	tests/integration/master-weights.sh \
	tests/integration/master-decline.sh \
	tests/integration/master-offer-timeout.sh \
	tests/integration/master-partition.sh \
	tests/integration/master-failover.sh \
	tests/integration/master-restart.sh \
	tests/integration/master-launch.sh \
	tests/integration/master-reconcile.sh \
	tests/integration/master-min-allocatable.sh \
	tests/integration/master-files.sh
TESTS += $(MASTER_TESTS)
EXTRA_DIST += $(MASTER_TESTS)

# Master high availability: each starts a ZooKeeper ensemble (tests/zk.sh).
HA_TESTS = \
	tests/integration/ha-failover.sh \
	tests/integration/ha-partition.sh \
	tests/integration/ha-status.sh
TESTS += $(HA_TESTS)
EXTRA_DIST += $(HA_TESTS) tests/zk.sh
