/* methods_table.h — the methods the tests cover (one line per method). Every
 * registered method must appear here; test_methods checks that. */
METHOD(nope)
METHOD(sinusoidal)
METHOD(rotary)
METHOD(t5)
METHOD(alibi)
