# The deterministic simulation (tests/sim/README.md): the real engine, write
# protocol, linking, sync arithmetic and LMDB state against simulated
# stores, through the client.h seam.  Its objects are the agent's own but
# client.o and clock.o, which tests/sim/ replaces at link time.
#
#   make sim                 SIM_SCHEDULES schedules (default 100000), 2 jobs;
#                            a glibc build (musl's allocator unmaps memory
#                            on free, which makes it twice as slow)
#   make sim SEED=N          one schedule, with its step-by-step trace
#   make test                runs the first 2000 and the regression seeds

SIM_BIN		= $(TESTDIR)/sim
SIM_SRCS	= tests/sim/sim.c tests/sim/sim_shop.c tests/sim/sim_client.c \
		  tests/sim/sim_clock.c
SIM_OBJS	= $(filter-out $(OBJDIR)/client.o $(OBJDIR)/clock.o,$(LIB_OBJS))
SIM_WRAP	= -Wl,--wrap=mdb_txn_commit,--wrap=mdb_env_open,--wrap=mdb_env_set_mapsize,--wrap=state_open,--wrap=state_close,--wrap=state_lock_syncer,--wrap=state_trim,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=xmalloc,--wrap=xcalloc,--wrap=xreallocarray,--wrap=xstrdup
SIM_SCHEDULES	?= 100000
SIM_JOBS	?= 2

.PHONY: sim

$(SIM_BIN): $(SIM_SRCS) tests/sim/sim.h $(SIM_OBJS) | $(TESTDIR)
	$(CC) $(ALL_CFLAGS) -Itests/sim $(ALL_LDFLAGS) $(SIM_WRAP) -o $@ \
	    $(SIM_SRCS) $(SIM_OBJS) $(DEPS_LIBS)

ifneq ($(GLIBC),1)
sim:
	@$(MAKE) --no-print-directory GLIBC=1 sim
else ifdef SEED
sim: $(SIM_BIN)
	$(SIM_BIN) -t $(SEED)
else
sim: $(SIM_BIN)
	@$(SIM_BIN) -l tests/sim/regressions.txt | tail -1
	@time $(SIM_BIN) -n $(SIM_SCHEDULES) -j $(SIM_JOBS)
endif
