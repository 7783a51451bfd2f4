/* suites.h — every test suite, run in this order. Each is `void test_<name>(void)`
 * defined in tests/test_<name>.c. */
SUITE(common)
SUITE(ops)
SUITE(precision)
SUITE(methods)
SUITE(attention)
SUITE(model)
SUITE(checkpoint)
SUITE(fixtures)
SUITE(data)
SUITE(train)
SUITE(stats)
SUITE(probe)
