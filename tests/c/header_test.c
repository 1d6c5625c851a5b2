/* Compiled with -pedantic -Werror as C99 and C++11 by ctest (header_c99,
 * header_cxx): the public headers must stand alone in both languages. */
#include <redisx/redisx.h>

int redisx_header_test_uses(void);
int redisx_header_test_uses(void)
{
    return REDISX_VERSION_NUMBER > 0 && REDISX_OK == 0 && REDISX_ERR_NOT_OWNER < 0;
}
