# agent/sim.mk: cairn-agent-sim, the agent emulator (many agents over the
# real protocol, no tasks run) for trying schedulers against a large
# cluster and for the master's scale benchmarks. Included from
# agent/local.mk. simnet (many DEALER sessions in one thread) is shared
# with the load framework, tests/bench/cairn-load.
bin_PROGRAMS += agent/cairn-agent-sim
agent_cairn_agent_sim_SOURCES = agent/sim.c agent/simnet.c agent/simnet.h
agent_cairn_agent_sim_CFLAGS = $(AM_CFLAGS) $(CZMQ_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
agent_cairn_agent_sim_LDADD = libframework/libcairn-util.la $(CZMQ_LIBS) $(ZMQ_LIBS) \
	$(JANSSON_LIBS) $(MSGPACK_LIBS)
