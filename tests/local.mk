# tests: unit tests (TAP programs), integration tests (TAP shell scripts)
# and benchmarks (make bench).

LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = \
	CAIRN_BUILDDIR='$(abs_top_builddir)'; export CAIRN_BUILDDIR; \
	CAIRN_SRCDIR='$(abs_top_srcdir)'; export CAIRN_SRCDIR;

TEST_UNIT_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS) $(MSGPACK_CFLAGS)
TEST_UNIT_LIBS = libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) \
	$(JANSSON_LIBS) $(MSGPACK_LIBS)

EXTRA_DIST += tests/tap.h build-aux/tap-driver.sh

UNIT_TESTS = tests/unit/resources tests/unit/codec tests/unit/flags tests/unit/httpd \
	tests/unit/master tests/unit/agent tests/unit/registry tests/unit/health \
	tests/unit/checkpoint tests/unit/fetcher tests/unit/isolator tests/unit/restapi \
	tests/unit/launcher tests/unit/util tests/unit/log tests/unit/driver tests/unit/zk
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

# The driver against a fake master (a ROUTER speaking the codec).
tests_unit_driver_SOURCES = tests/unit/driver.c
tests_unit_driver_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_driver_LDADD = libframework/libcairn.la $(TEST_UNIT_LIBS)

tests_unit_log_SOURCES = tests/unit/log.c
tests_unit_log_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_log_LDADD = $(TEST_UNIT_LIBS)

tests_unit_util_SOURCES = tests/unit/util.c
tests_unit_util_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_util_LDADD = $(TEST_UNIT_LIBS)

tests_unit_zk_SOURCES = tests/unit/zk.c
tests_unit_zk_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_zk_LDADD = $(TEST_UNIT_LIBS)

tests_unit_resources_SOURCES = tests/unit/resources.c
tests_unit_resources_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_resources_LDADD = $(TEST_UNIT_LIBS)

tests_unit_codec_SOURCES = tests/unit/codec.c
tests_unit_codec_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_codec_LDADD = $(TEST_UNIT_LIBS)

tests_unit_flags_SOURCES = tests/unit/flags.c
tests_unit_flags_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_unit_flags_LDADD = $(TEST_UNIT_LIBS)

tests_unit_httpd_SOURCES = tests/unit/httpd.c
tests_unit_httpd_CFLAGS = $(TEST_UNIT_CFLAGS) $(CURL_CFLAGS)
tests_unit_httpd_LDADD = libframework/libcairn-httpd.la libframework/libcairn-httpc.la \
	$(TEST_UNIT_LIBS) $(MICROHTTPD_LIBS) $(CURL_LIBS)

# The REST API glue and JSON checks the bundled frameworks use.
tests_unit_restapi_SOURCES = tests/unit/restapi.c
tests_unit_restapi_CFLAGS = $(TEST_UNIT_CFLAGS) $(CURL_CFLAGS)
tests_unit_restapi_LDADD = libframework/libcairn-httpd.la libframework/libcairn-httpc.la \
	$(TEST_UNIT_LIBS) $(MICROHTTPD_LIBS) $(CURL_LIBS)

tests_unit_agent_SOURCES = tests/unit/agent.c
tests_unit_agent_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent
tests_unit_agent_LDADD = agent/libagent.la libframework/libcairn-store.la $(TEST_UNIT_LIBS) \
	$(SQLITE_LIBS) $(CGROUP_LIBS)

# Runs tasks under the built cairn-shim (found through CAIRN_BUILDDIR);
# as root it creates and removes cgroups under cairn-test-<pid> only.
tests_unit_isolator_SOURCES = tests/unit/isolator.c
tests_unit_isolator_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent $(CGROUP_CFLAGS)
tests_unit_isolator_LDADD = agent/libagent.la libframework/libcairn-store.la $(TEST_UNIT_LIBS) \
	$(SQLITE_LIBS) $(CGROUP_LIBS)

# Starts shims through the built cairn-shim --launcher (CAIRN_BUILDDIR).
tests_unit_launcher_SOURCES = tests/unit/launcher.c
tests_unit_launcher_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent
tests_unit_launcher_LDADD = agent/libagent.la $(TEST_UNIT_LIBS)

tests_unit_checkpoint_SOURCES = tests/unit/checkpoint.c
tests_unit_checkpoint_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent $(SQLITE_CFLAGS)
tests_unit_checkpoint_LDADD = agent/libagent.la libframework/libcairn-store.la \
	$(TEST_UNIT_LIBS) $(SQLITE_LIBS)

tests_unit_health_SOURCES = tests/unit/health.c
tests_unit_health_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent
tests_unit_health_LDADD = agent/libagent.la $(TEST_UNIT_LIBS)

# Runs the built cairn-fetcher (an ordinary program, found through
# CAIRN_BUILDDIR) against a libmicrohttpd server in the test.
tests_unit_fetcher_SOURCES = tests/unit/fetcher.c
tests_unit_fetcher_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent
tests_unit_fetcher_LDADD = agent/libagent.la libframework/libcairn-httpd.la $(TEST_UNIT_LIBS) \
	$(MICROHTTPD_LIBS)

tests_unit_master_SOURCES = tests/unit/master.c
tests_unit_master_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/master
tests_unit_master_LDADD = master/libmaster.la $(TEST_UNIT_LIBS) $(SQLITE_LIBS)

tests_unit_registry_SOURCES = tests/unit/registry.c
tests_unit_registry_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/master $(SQLITE_CFLAGS)
tests_unit_registry_LDADD = master/libmaster.la $(TEST_UNIT_LIBS) $(SQLITE_LIBS)

# Tools the integration tests drive the daemons with.
check_PROGRAMS += tests/tools/cairn-poke tests/tools/protodoc
tests_tools_cairn_poke_SOURCES = tests/tools/cairn-poke.c
tests_tools_cairn_poke_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_tools_cairn_poke_LDADD = $(TEST_UNIT_LIBS)
tests_tools_protodoc_SOURCES = tests/tools/protodoc.c
tests_tools_protodoc_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_tools_protodoc_LDADD = $(TEST_UNIT_LIBS)

INTEGRATION_TESTS = \
	tests/integration/hello.sh \
	tests/integration/hostile.sh \
	tests/integration/master-endpoints.sh \
	tests/integration/webui.sh \
	tests/integration/webui-browser.sh \
	tests/integration/webui-actions.sh \
	tests/integration/master-gone.sh \
	tests/integration/agent-recovery.sh \
	tests/integration/agent-isolation.sh \
	tests/integration/agent-launcher.sh \
	tests/integration/protocol-doc.sh \
	tests/integration/scale-small.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/lib.sh $(INTEGRATION_TESTS) tests/integration/webui-drive.js

# Benchmarks: `make bench` (never part of `make check`).
EXTRA_PROGRAMS += tests/bench/codec tests/bench/allocator tests/bench/state \
	tests/bench/launch-loop
# The load framework: F frameworks over simnet (agent/simnet.c), for the
# scale benchmark; built by make check for tests/integration/scale-small.sh
# (check programs are never installed).
check_PROGRAMS += tests/bench/cairn-load
tests_bench_cairn_load_SOURCES = tests/bench/load.c agent/simnet.c agent/simnet.h
tests_bench_cairn_load_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent
tests_bench_cairn_load_LDADD = $(TEST_UNIT_LIBS) -lm
tests_bench_launch_loop_SOURCES = tests/bench/launch-loop.c
tests_bench_launch_loop_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/agent $(CGROUP_CFLAGS)
tests_bench_launch_loop_LDADD = agent/libagent.la libframework/libcairn-store.la \
	$(TEST_UNIT_LIBS) $(CGROUP_LIBS) $(SQLITE_LIBS)
tests_bench_state_SOURCES = tests/bench/state.c
tests_bench_state_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/master
tests_bench_state_LDADD = master/libmaster.la $(TEST_UNIT_LIBS) $(SQLITE_LIBS)
tests_bench_allocator_SOURCES = tests/bench/allocator.c
tests_bench_allocator_CFLAGS = $(TEST_UNIT_CFLAGS) -I$(top_srcdir)/master
tests_bench_allocator_LDADD = master/libmaster.la $(TEST_UNIT_LIBS) $(SQLITE_LIBS)
tests_bench_codec_SOURCES = tests/bench/codec.c
tests_bench_codec_CFLAGS = $(TEST_UNIT_CFLAGS)
tests_bench_codec_LDADD = $(TEST_UNIT_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += tests/bench/run.sh tests/bench/e2e.sh tests/bench/scale.sh tests/bench/plot.sh \
	tests/bench/failover.sh

bench: all $(EXTRA_PROGRAMS) $(check_PROGRAMS)
	CAIRN_BUILDDIR=$(abs_top_builddir) CAIRN_SRCDIR=$(abs_top_srcdir) \
		$(SHELL) $(top_srcdir)/tests/bench/run.sh
.PHONY: bench
include tests/integration/local.mk
include tests/vm/local.mk
include tests/library.mk
include tests/operator.mk
include tests/fuzz/local.mk
include tests/security.mk
include tests/ui/local.mk
