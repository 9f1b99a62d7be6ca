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
		  tests/sim/sim_clock.c tests/sim/sim_lmdb.c
SIM_OBJS	= $(filter-out $(OBJDIR)/client.o $(OBJDIR)/clock.o,$(LIB_OBJS))
# linked through the simulation's wrappers: sim_lmdb.c, sim.c, sim_clock.c
SIM_WRAPPED	= mdb_env_create mdb_env_open mdb_env_set_maxdbs \
		  mdb_env_set_mapsize mdb_env_close mdb_txn_begin \
		  mdb_txn_commit mdb_txn_abort mdb_cursor_open mdb_cursor_close \
		  state_open state_close state_lock_syncer state_trim \
		  malloc calloc realloc free xmalloc xcalloc xreallocarray xstrdup
sim_comma	:= ,
sim_space	:= $(subst x, ,x)
SIM_WRAP	= -Wl,--wrap=$(subst $(sim_space),$(sim_comma)--wrap=,$(strip \
		  $(SIM_WRAPPED)))
SIM_SCHEDULES	?= 100000
SIM_JOBS	?= 2

.PHONY: sim

# The mutants (tests/sim/mutants.sh): a file of agent/ broken on purpose,
# one simulator each, which `make test` expects the simulation to catch.
SIM_MUTANTS	:= $(shell sh tests/sim/mutants.sh list)
SIM_MUTANT_BINS	= $(patsubst %,$(TESTDIR)/sim-%,$(SIM_MUTANTS))
test: $(SIM_MUTANT_BINS)

# $(1): the mutant, $(2): the file it breaks
define sim_mutant
$(TESTDIR)/mutants/$(1)/$(2): agent/$(2) tests/sim/mutants.sh | $(TESTDIR)
	mkdir -p $$(@D)
	sh tests/sim/mutants.sh apply $(1) <agent/$(2) >$$@.tmp
	mv $$@.tmp $$@

$(TESTDIR)/sim-$(1): $(TESTDIR)/mutants/$(1)/$(2) $(SIM_SRCS) tests/sim/sim.h \
    $(SIM_OBJS)
	$(CC) $(ALL_CFLAGS) -Iagent -Itests/sim $(ALL_LDFLAGS) $(SIM_WRAP) \
	    -o $$@ $(SIM_SRCS) $$< \
	    $$(filter-out $(OBJDIR)/$(2:.c=.o),$(SIM_OBJS)) $(DEPS_LIBS)
endef
$(foreach m,$(SIM_MUTANTS),$(eval $(call sim_mutant,$(m),$(shell \
    sh tests/sim/mutants.sh file $(m)))))

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
