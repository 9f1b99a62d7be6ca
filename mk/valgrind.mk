# mk/valgrind.mk: make valgrind (filled in by the next commit)
