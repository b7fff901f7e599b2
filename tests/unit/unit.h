#ifndef THRUM_UNIT_H
#define THRUM_UNIT_H

/* common includes of the cmocka unit tests */
#include "thrum.h"
#include <setjmp.h>
#include <cmocka.h>

#endif
