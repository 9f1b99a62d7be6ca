# The deterministic simulation (docs/simulation.md): the real engine, write
# protocol, linking, sync arithmetic and LMDB state against simulated
# stores, through the client.h seam.  Its objects are the agent's own but
# client.o and clock.o, which tests/sim/ replaces at link time.
#
#   make sim                 SIM_SCHEDULES schedules (default 100000) on 2 jobs
#   make sim SEED=N          one schedule, with its step-by-step trace
#   make sim-short           the slice `make test` runs

SIM_BIN		= $(TESTDIR)/sim
SIM_SRCS	= tests/sim/sim.c tests/sim/sim_shop.c tests/sim/sim_client.c \
		  tests/sim/sim_clock.c
SIM_OBJS	= $(filter-out $(OBJDIR)/client.o $(OBJDIR)/clock.o,$(LIB_OBJS))
SIM_WRAP	= -Wl,--wrap=mdb_txn_commit,--wrap=mdb_env_open,--wrap=state_open,--wrap=state_close,--wrap=state_lock_syncer,--wrap=state_trim,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=xmalloc,--wrap=xcalloc,--wrap=xreallocarray,--wrap=xstrdup
SIM_SCHEDULES	?= 100000
SIM_JOBS	?= 2

.PHONY: sim sim-short

$(SIM_BIN): $(SIM_SRCS) tests/sim/sim.h $(SIM_OBJS) | $(TESTDIR)
	$(CC) $(ALL_CFLAGS) -Itests/sim $(ALL_LDFLAGS) $(SIM_WRAP) -o $@ \
	    $(SIM_SRCS) $(SIM_OBJS) $(DEPS_LIBS)

ifdef SEED
sim: $(SIM_BIN)
	$(SIM_BIN) -t $(SEED)
else
sim: $(SIM_BIN)
	$(SIM_BIN) -n $(SIM_SCHEDULES) -j $(SIM_JOBS)
endif

sim-short: $(SIM_BIN)
	$(SIM_BIN) -n 2000 -j $(SIM_JOBS)
