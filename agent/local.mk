# agent: cairn-agent and its per-task supervisor cairn-shim. The state,
# handlers and containerizer live in a convenience library for tests.
pkglibexecdir = $(libexecdir)/cairn

noinst_LTLIBRARIES += agent/libagent.la
agent_libagent_la_SOURCES = \
	agent/agent.c agent/agent.h \
	agent/checkpoint.c agent/checkpoint.h \
	agent/containerizer.c agent/containerizer.h \
	agent/launcher.c agent/launcher.h \
	agent/fetcher.c agent/fetcher.h \
	agent/health.c agent/health.h \
	agent/isolator.c agent/isolator.h \
	agent/cgroups.c agent/cgroups.h
agent_libagent_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS) $(CGROUP_CFLAGS)
agent_libagent_la_LIBADD = libframework/libcairn-store.la libframework/libcairn-util.la \
	$(SQLITE_LIBS) $(CGROUP_LIBS)

sbin_PROGRAMS += agent/cairn-agent
agent_cairn_agent_SOURCES = agent/main.c
agent_cairn_agent_CPPFLAGS = $(AM_CPPFLAGS) -DCAIRN_LIBEXECDIR='"$(pkglibexecdir)"'
agent_cairn_agent_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
agent_cairn_agent_LDADD = agent/libagent.la libframework/libcairn-httpd.la \
	libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) \
	$(MICROHTTPD_LIBS) $(MSGPACK_LIBS) libframework/libcairn-store.la $(SQLITE_LIBS) \
	$(CGROUP_LIBS)

# The shim links only libc (no sanitizer runtime either: it must start
# fast and stay small; the agent's tests still exercise it).
pkglibexec_PROGRAMS = agent/cairn-shim
agent_cairn_shim_SOURCES = agent/shim.c
agent_cairn_shim_CFLAGS = $(WARN_CFLAGS)
agent_cairn_shim_LDFLAGS =

# The fetcher: downloads and extracts a task's URIs in its own process,
# so the agent's loop never waits on the network or the disk.
pkglibexec_PROGRAMS += agent/cairn-fetcher
agent_cairn_fetcher_SOURCES = agent/fetcher-main.c
agent_cairn_fetcher_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS)
agent_cairn_fetcher_LDADD = libframework/libcairn-util.la $(CURL_LIBS) $(CZMQ_LIBS) \
	$(ZMQ_LIBS) $(JANSSON_LIBS) $(MSGPACK_LIBS)
include agent/sim.mk
