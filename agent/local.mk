# agent: cairn-agent and its per-task supervisor cairn-shim. The state,
# handlers and containerizer live in a convenience library for tests.
pkglibexecdir = $(libexecdir)/cairn

noinst_LTLIBRARIES += agent/libagent.la
agent_libagent_la_SOURCES = \
	agent/agent.c agent/agent.h \
	agent/containerizer.c agent/containerizer.h \
	agent/isolator.c agent/isolator.h
agent_libagent_la_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
agent_libagent_la_LIBADD = libframework/libcairn-util.la

sbin_PROGRAMS += agent/cairn-agent
agent_cairn_agent_SOURCES = agent/main.c
agent_cairn_agent_CPPFLAGS = $(AM_CPPFLAGS) -DCAIRN_LIBEXECDIR='"$(pkglibexecdir)"'
agent_cairn_agent_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
agent_cairn_agent_LDADD = agent/libagent.la libframework/libcairn-httpd.la \
	libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) \
	$(MICROHTTPD_LIBS) $(MSGPACK_LIBS)

# The shim links only libc (no sanitizer runtime either: it must start
# fast and stay small; the agent's tests still exercise it).
pkglibexec_PROGRAMS = agent/cairn-shim
agent_cairn_shim_SOURCES = agent/shim.c
agent_cairn_shim_CFLAGS = $(WARN_CFLAGS)
agent_cairn_shim_LDFLAGS =
